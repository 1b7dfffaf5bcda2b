package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Linear's product goes three ways by row count (matrix-vector products, sgemm, sgemm over rows padded
 * to a multiple of 16); every way must give x · W^T + b on the wanted rows and leave the rest alone.
 */
class LinearTest {

    private static final int IN = 40;
    private static final int OUT = 24;

    @Test
    void everyRowCountMatchesTheDefinitionWithAndWithoutRoomToPad() {
        Random random = new Random(11);
        Tensor weight = filled(random, OUT, IN);
        check(new Linear(weight, filled(random, OUT)), random);
        check(new Linear(weight, null), random);
    }

    private static void check(Linear linear, Random random) {
        for (int rows = 1; rows <= 40; rows++) {
            for (boolean room : new boolean[] {true, false}) {
                int capacity = room ? Blas.paddedRows(rows) : rows;
                Tensor x = filled(random, capacity, IN);
                // with room, one row more than the padding holds a sentinel that must survive
                Tensor y = Tensor.zeros(room ? capacity + 1 : rows, OUT);
                if (room) {
                    y.buffer().put(capacity * OUT, 7f);
                }

                linear.forward(x, y, rows);

                for (int r = 0; r < rows; r++) {
                    for (int o = 0; o < OUT; o++) {
                        double expected = linear.bias() == null ? 0 : linear.bias().buffer().get(o);
                        for (int i = 0; i < IN; i++) {
                            expected += (double) x.buffer().get(r * IN + i) * linear.weight().buffer().get(o * IN + i);
                        }
                        assertThat(y.buffer().get(r * OUT + o)).as("rows %d, room %s, y[%d, %d]", rows, room, r, o)
                                .isCloseTo((float) expected, within(1e-4f));
                    }
                }
                if (room) {
                    assertThat(y.buffer().get(capacity * OUT)).as("row past the padding, rows %d", rows).isEqualTo(7f);
                }
            }
        }
    }

    @Test
    void paddingRoundsSgemmRowCountsUpToMultiplesOf16() {
        assertThat(Blas.paddedRows(1)).isEqualTo(1);
        assertThat(Blas.paddedRows(Blas.MAX_GEMV_ROWS)).isEqualTo(Blas.MAX_GEMV_ROWS);
        assertThat(Blas.paddedRows(13)).isEqualTo(16);
        assertThat(Blas.paddedRows(16)).isEqualTo(16);
        assertThat(Blas.paddedRows(17)).isEqualTo(32);
        assertThat(Blas.paddedRows(527)).isEqualTo(528);
    }

    private static Tensor filled(Random random, long... shape) {
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.length(); i++) {
            t.buffer().put(i, (float) random.nextGaussian());
        }
        return t;
    }
}
