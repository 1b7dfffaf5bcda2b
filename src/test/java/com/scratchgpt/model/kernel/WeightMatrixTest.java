package com.scratchgpt.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.scratchgpt.model.Tensor;

/**
 * Every format's product against its definition, y = x · W^T + b over the weights as the format stores
 * them, and the property batching relies on: a row's result has the same bits alone or among others.
 * Activations and results live in real ND4J arrays, as the engine's do.
 */
class WeightMatrixTest {

    /**
     * (out, in) per format: rows not a multiple of the 4-row tile or the 16-row chunk, widths past the last
     * full vector (bf16: an odd width, so a half-filled pair; q8_0: widths ending in a part of a block of 32),
     * and one width so large that fewer than 40 activation rows fill the cache block a pass covers.
     */
    private static int[][] shapes(WeightFormat format) {
        return format == WeightFormat.Q8_0
                ? new int[][] {{37, 96}, {5, 32}, {18, 160}, {6, 2080}, {7, 18}, {9, 70}}
                : new int[][] {{37, 70}, {5, 33}, {18, 3}, {21, 131}, {6, 2080}};
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void everyRowCountFrom1To40MatchesTheDefinitionWithAndWithoutBias(WeightFormat format) {
        Random random = new Random(17);
        for (int[] shape : shapes(format)) {
            int out = shape[0];
            int in = shape[1];
            WeightMatrix w = WeightMatrix.of(format, values(random, out * in), out, in);
            float[][] stored = stored(w);
            for (boolean withBias : new boolean[] {false, true}) {
                FloatBuffer bias = withBias ? values(random, out) : null;
                for (int rows = 1; rows <= 40; rows++) {
                    Tensor x = tensor(random, rows, in);
                    Tensor y = Tensor.zeros(rows + 1, out);
                    y.buffer().put(rows * out, 7f); // one element past the rows: must survive

                    w.multiply(x.buffer(), bias, y.buffer(), rows);

                    for (int r = 0; r < rows; r++) {
                        for (int o = 0; o < out; o++) {
                            double expected = withBias ? bias.get(o) : 0;
                            double magnitude = Math.abs(expected);
                            for (int k = 0; k < in; k++) {
                                double p = (double) x.buffer().get(r * in + k) * stored[o][k];
                                expected += p;
                                magnitude += Math.abs(p);
                            }
                            // float32 sums of `in` products: a few units in the last place of the magnitudes
                            assertThat((double) y.buffer().get(r * out + o))
                                    .as("%s (%d, %d), bias %s, rows %d, y[%d, %d]", format, out, in, withBias, rows, r, o)
                                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5 * magnitude + 1e-30));
                        }
                    }
                    assertThat(y.buffer().get(rows * out)).as("element past the rows").isEqualTo(7f);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void eachRowHasTheSameBitsAloneAndAtAnyPositionAmongUpTo40Rows(WeightFormat format) {
        Random random = new Random(23);
        for (int[] shape : shapes(format)) {
            int out = shape[0];
            int in = shape[1];
            WeightMatrix w = WeightMatrix.of(format, values(random, out * in), out, in);
            FloatBuffer bias = values(random, out);
            float[][] rows = new float[40][];
            int[][] alone = new int[40][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = new float[in];
                for (int k = 0; k < in; k++) {
                    rows[i][k] = (float) random.nextGaussian();
                }
                alone[i] = bits(product(w, bias, List.of(rows[i])), 0, out);
            }
            for (int n = 1; n <= 40; n++) {
                List<Integer> picked = new ArrayList<>();
                for (int i = 0; i < rows.length; i++) {
                    picked.add(i);
                }
                Collections.shuffle(picked, random);
                picked = picked.subList(0, n);
                List<float[]> batch = new ArrayList<>();
                picked.forEach(i -> batch.add(rows[i]));

                Tensor y = product(w, bias, batch);

                for (int p = 0; p < n; p++) {
                    assertThat(bits(y, p, out)).as("%s (%d, %d): row %d at position %d of %d", format, out, in,
                            picked.get(p), p, n).isEqualTo(alone[picked.get(p)]);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void resultsHaveTheSameBitsOnOneThreadAndOnSeveral(WeightFormat format) {
        Random random = new Random(29);
        int out = 150;
        int in = 96;
        StreamedMatrix w = (StreamedMatrix) WeightMatrix.of(format, values(random, out * in), out, in);
        Tensor x = tensor(random, 9, in);
        int[] expected = null;
        for (int threads : new int[] {1, 2, 3, 5}) {
            Tensor y = Tensor.zeros(9, out);
            w.multiply(x.buffer(), null, y.buffer(), 9, new KernelPool(threads));
            int[] got = bits(y, 0, 9 * out);
            if (expected == null) {
                expected = got;
            }
            assertThat(got).as("%s on %d threads", format, threads).isEqualTo(expected);
        }
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void buffersTooSmallForTheRowsAreRefusedBeforeAnythingIsWritten(WeightFormat format) {
        WeightMatrix w = WeightMatrix.of(format, values(new Random(3), 8 * 32), 8, 32);
        Tensor y = Tensor.zeros(2, 8);

        assertThatThrownBy(() -> w.multiply(Tensor.zeros(1, 32).buffer(), null, y.buffer(), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 rows");
        assertThatThrownBy(() -> w.multiply(Tensor.zeros(2, 32).buffer(), Tensor.zeros(7).buffer(), y.buffer(), 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias of 8");
        assertThat(y.buffer().get(0)).isZero();
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void residentBytesAreWhatTheFormatHolds(WeightFormat format) {
        WeightMatrix w = WeightMatrix.of(format, values(new Random(5), 64 * 96), 64, 96);

        long expected = switch (format) {
            case F32 -> 64 * 96 * 4;
            case BF16 -> 64 * 96 * 2;
            case Q8_0 -> 64 * 96 + 64 * 3 * 2; // an int8 a weight, a binary16 scale per 32
        };
        assertThat(w.residentBytes()).isEqualTo(expected);
        assertThat(w.format()).isEqualTo(format);
        if (format != WeightFormat.F32) {
            assertThat(WeightMatrix.of(format, values(new Random(5), 65 * 96), 65, 96).residentBytes())
                    .as("rows held in groups of four, the last filled up with zeros").isEqualTo(expected / 64 * 68);
        }
        assertThat(w.outFeatures()).isEqualTo(64);
        assertThat(w.inFeatures()).isEqualTo(96);
    }

    /** y (rows, out) for these activation rows, in an ND4J array. */
    private static Tensor product(WeightMatrix w, FloatBuffer bias, List<float[]> rows) {
        int in = w.inFeatures();
        Tensor x = Tensor.zeros(rows.size(), in);
        for (int r = 0; r < rows.size(); r++) {
            x.buffer().put(r * in, rows.get(r));
        }
        Tensor y = Tensor.zeros(rows.size(), w.outFeatures());
        w.multiply(x.buffer(), bias, y.buffer(), rows.size());
        return y;
    }

    private static int[] bits(Tensor t, int row, int length) {
        int[] bits = new int[length];
        for (int i = 0; i < length; i++) {
            bits[i] = Float.floatToRawIntBits(t.buffer().get(row * length + i));
        }
        return bits;
    }

    /** The matrix's weights as its products use them. */
    static float[][] stored(WeightMatrix w) {
        float[][] rows = new float[w.outFeatures()][w.inFeatures()];
        for (int o = 0; o < rows.length; o++) {
            w.dequantizeRow(o, rows[o], 0);
        }
        return rows;
    }

    static FloatBuffer values(Random random, int n) {
        FloatBuffer b = FloatBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            b.put(i, (float) random.nextGaussian() * 0.1f);
        }
        return b;
    }

    private static Tensor tensor(Random random, int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < rows * cols; i++) {
            t.buffer().put(i, (float) random.nextGaussian());
        }
        return t;
    }
}
