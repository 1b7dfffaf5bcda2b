package com.scratchgpt.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.FloatBuffer;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** Q8_0 quantisation: every weight within half a step of its block's scale, and what cannot be held. */
class Q8_0MatrixTest {

    @Test
    void everyWeightComesBackWithinHalfItsBlocksScale() {
        Random random = new Random(13);
        int out = 24;
        int in = 128;
        FloatBuffer values = FloatBuffer.allocate(out * in);
        // blocks of very different magnitudes: ordinary, tiny (binary16-subnormal scales), large, all zeros
        float[] magnitudes = {0.02f, 1f, 3e-6f, 1e-9f, 400f, 0f};
        for (int b = 0; b < out * in / 32; b++) {
            float m = magnitudes[b % magnitudes.length];
            for (int i = 0; i < 32; i++) {
                values.put(b * 32 + i, (float) random.nextGaussian() * m);
            }
        }

        float[][] stored = WeightMatrixTest.stored(WeightMatrix.of(WeightFormat.Q8_0, values, out, in));

        for (int b = 0; b < out * in / 32; b++) {
            float max = 0;
            for (int i = 0; i < 32; i++) {
                max = Math.max(max, Math.abs(values.get(b * 32 + i)));
            }
            double d = Float16.toFloat(Q8_0Matrix.scaleFor(max));
            for (int i = 0; i < 32; i++) {
                int k = b * 32 + i;
                double back = stored[k / in][k % in];
                double level = d == 0 ? 0 : back / d;
                assertThat(level).as("block %d: an integer level in -127..127", b)
                        .isEqualTo(Math.rint(level)).isBetween(-127.0, 127.0);
                assertThat(Math.abs(values.get(k) - back)).as("block %d (max %s, scale %s), weight %d", b, max, d, i)
                        .isLessThanOrEqualTo(d / 2);
            }
        }
    }

    @Test
    void theScaleIsTheLargestWeightOver127AsBinary16() {
        assertThat(Float16.toFloat(Q8_0Matrix.scaleFor(127f))).isEqualTo(1f);
        // 0.1 rounds down to binary16 0.099975586, and 127 of those fall short of 12.7: one step up
        assertThat(Q8_0Matrix.scaleFor(12.7f)).isEqualTo((short) (Float16.fromFloat(0.1f) + 1));
        assertThat(Float16.toFloat(Q8_0Matrix.scaleFor(12.7f))).isEqualTo(0.10003662f);
        assertThat(Q8_0Matrix.scaleFor(0f)).isZero();
        assertThat(Q8_0Matrix.scaleFor(1e-30f)).as("the smallest binary16, not zero").isEqualTo((short) 1);
    }

    @Test
    void aRowNotAMultipleOf32EndsInABlockOfItsOwnWeightsOnly() {
        Random random = new Random(19);
        int out = 3;
        int in = 40; // a block of 32, then one of 8
        FloatBuffer values = FloatBuffer.allocate(out * in);
        for (int i = 0; i < out * in; i++) {
            // the last 8 of each row small: their block's scale must come from them alone
            values.put(i, (float) random.nextGaussian() * (i % in < 32 ? 10f : 0.01f));
        }

        WeightMatrix w = WeightMatrix.of(WeightFormat.Q8_0, values, out, in);
        float[][] stored = WeightMatrixTest.stored(w);

        for (int o = 0; o < out; o++) {
            float max = 0;
            for (int k = 32; k < in; k++) {
                max = Math.max(max, Math.abs(values.get(o * in + k)));
            }
            double d = Float16.toFloat(Q8_0Matrix.scaleFor(max));
            for (int k = 32; k < in; k++) {
                assertThat((double) Math.abs(values.get(o * in + k) - stored[o][k])).as("row %d, weight %d", o, k)
                        .isLessThanOrEqualTo(d / 2);
            }
        }
        assertThat(w.residentBytes()).as("two whole blocks a row: 64 levels and 2 scales, for 3 rows and one of zeros")
                .isEqualTo(4 * (64 + 2 * 2));
    }

    @Test
    void weightsMustBeFiniteAndWithinBinary16Scales() {
        FloatBuffer nan = FloatBuffer.allocate(2 * 32);
        nan.put(40, Float.NaN);
        assertThatThrownBy(() -> WeightMatrix.of(WeightFormat.Q8_0, nan, 2, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 1, column 8");

        FloatBuffer huge = FloatBuffer.allocate(32);
        huge.put(0, 1e7f);
        assertThatThrownBy(() -> WeightMatrix.of(WeightFormat.Q8_0, huge, 1, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overflows binary16");
    }
}
