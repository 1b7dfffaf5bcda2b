package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.model.kernel.WeightMatrix;

/**
 * Linear's products: rows that stand alone, and a step's rows by chunk (bf16 and q8_0: every row through the
 * weight kernel; f32: short chunks' rows one at a time through matrix-vector products, long chunks through
 * sgemm on their own rows, padded to a multiple of 16 where the buffers have room). Every way must give
 * x · W^T + b on the wanted rows, over the weights as the format holds them, and give a chunk's rows the same
 * bits whatever chunks surround them.
 */
class LinearTest {

    private static final int IN = 37; // rows 148 bytes apart: every alignment of a row in memory
    private static final int OUT = 24;
    private static final GPTConfig CFG = new GPTConfig(50257, 64, 8, 2, 1, 0.0, false);

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void everyRowCountMatchesTheDefinitionWithAndWithoutBias(WeightFormat format) {
        Random random = new Random(11);
        Tensor weight = filled(random, OUT, IN);
        for (Tensor bias : new Tensor[] {filled(random, OUT), null}) {
            Linear linear = linear(format, weight, bias);
            for (int rows = 1; rows <= 40; rows++) {
                Tensor x = filled(random, rows, IN);
                Tensor y = Tensor.zeros(rows + 1, OUT);
                y.buffer().put(rows * OUT, 7f);

                linear.forward(x, y, rows);

                assertRows(linear, x, y, 0, rows, "rows " + rows);
                assertThat(y.buffer().get(rows * OUT)).as("element past the rows, rows %d", rows).isEqualTo(7f);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void aStepOfShortAndLongChunksMatchesTheDefinitionOnEveryRowWithAndWithoutRoomToPad(WeightFormat format) {
        Random random = new Random(13);
        Linear linear = linear(format, filled(random, OUT, IN), filled(random, OUT));
        // decode rows, a short prompt, long prompts (one of 13: padded to 16), in no particular order
        int[] lengths = {1, 20, 5, 1, 13, 40, 1, 12};
        Activations act = step(lengths);
        for (boolean room : new boolean[] {true, false}) {
            int capacity = room ? act.rows + Blas.SGEMM_ROW_MULTIPLE : act.rows;
            Tensor x = filled(random, capacity, IN);
            Tensor y = Tensor.zeros(capacity + 1, OUT);
            y.buffer().put(capacity * OUT, 7f);

            linear.forward(act, x, y);

            for (int c = 0; c < lengths.length; c++) {
                assertRows(linear, x, y, act.firstRow(c), lengths[c], "chunk " + c + " of " + lengths[c] + ", room " + room);
            }
            assertThat(y.buffer().get(capacity * OUT)).as("element past the buffer's rows").isEqualTo(7f);
        }
    }

    @Test
    void shortChunksComeFirstThenLongOnesEachGroupInTheOrderGiven() {
        Activations act = step(new int[] {20, 1, 13, 3, 1});

        assertThat(act.shortRows).isEqualTo(5);
        assertThat(new int[] {act.firstRow(0), act.firstRow(1), act.firstRow(2), act.firstRow(3), act.firstRow(4)})
                .containsExactly(5, 0, 25, 1, 4);
    }

    @ParameterizedTest
    @EnumSource(WeightFormat.class)
    void aChunksRowsHaveTheSameBitsAloneAndAmongOtherChunks(WeightFormat format) {
        Random random = new Random(17);
        Linear linear = linear(format, filled(random, OUT, IN), filled(random, OUT));
        for (int length : new int[] {1, 7, 13, 20, 40}) {
            float[][] rows = new float[length][IN];
            for (float[] row : rows) {
                for (int k = 0; k < IN; k++) {
                    row[k] = (float) random.nextGaussian();
                }
            }
            int[] alone = bits(linear, new int[] {length}, 0, rows, random);
            for (int[] company : new int[][] {{1, 1, length}, {length, 30, 1, 5}, {16, 13, length, 2}, {3, length}}) {
                int at = indexOf(company, length);
                assertThat(bits(linear, company, at, rows, random)).as("%s chunk of %d among %s", format, length,
                        java.util.Arrays.toString(company)).isEqualTo(alone);
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

    /** A step over chunks of these lengths, each with a cache of its own. */
    private static Activations step(int[] lengths) {
        List<SequenceChunk> chunks = new ArrayList<>();
        int rows = 0;
        for (int n : lengths) {
            chunks.add(new SequenceChunk(new int[n], new KVCache(CFG, n)));
            rows += n;
        }
        Activations act = new Activations(CFG, rows, lengths.length);
        act.start(chunks);
        return act;
    }

    /** The bits of the chunk at index {@code at} of a step over chunks of these lengths, its rows holding {@code rows}. */
    private static int[] bits(Linear linear, int[] lengths, int at, float[][] rows, Random random) {
        Activations act = step(lengths);
        Tensor x = filled(random, act.rows + Blas.SGEMM_ROW_MULTIPLE, IN);
        for (int i = 0; i < rows.length; i++) {
            x.buffer().put((act.firstRow(at) + i) * IN, rows[i]);
        }
        Tensor y = Tensor.zeros(act.rows + Blas.SGEMM_ROW_MULTIPLE, OUT);
        linear.forward(act, x, y);
        int[] bits = new int[rows.length * OUT];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = Float.floatToRawIntBits(y.buffer().get(act.firstRow(at) * OUT + i));
        }
        return bits;
    }

    private static int indexOf(int[] lengths, int length) {
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] == length) {
                return i;
            }
        }
        throw new IllegalArgumentException(length + " not among the lengths");
    }

    /** rows first..first+n-1 of y against x · W^T + b, W as the layer holds it (dequantised). */
    private static void assertRows(Linear linear, Tensor x, Tensor y, int first, int n, String what) {
        float[] w = new float[OUT * IN];
        for (int o = 0; o < OUT; o++) {
            linear.weightRow(o, w, o * IN);
        }
        for (int r = first; r < first + n; r++) {
            for (int o = 0; o < OUT; o++) {
                double expected = linear.bias() == null ? 0 : linear.bias().buffer().get(o);
                for (int i = 0; i < IN; i++) {
                    expected += (double) x.buffer().get(r * IN + i) * w[o * IN + i];
                }
                assertThat(y.buffer().get(r * OUT + o)).as("%s, y[%d, %d]", what, r, o).isCloseTo((float) expected, within(1e-4f));
            }
        }
    }

    private static Linear linear(WeightFormat format, Tensor weight, Tensor bias) {
        if (format == WeightFormat.F32) {
            return new Linear(weight, bias);
        }
        return new Linear(WeightMatrix.of(format, weight.buffer(), OUT, IN), bias);
    }

    private static Tensor filled(Random random, long... shape) {
        Tensor t = Tensor.zeros(shape);
        FloatBuffer b = t.buffer();
        for (int i = 0; i < t.length(); i++) {
            b.put(i, (float) random.nextGaussian());
        }
        return t;
    }
}
