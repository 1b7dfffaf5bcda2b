package com.scratchgpt.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The Vector API GELU: the same bits for a value wherever it lies in a range, and close to the exact function. */
class GeluVectorTest {

    private static double exact(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    private static float[] values(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (i % 5 == 0 ? random.nextDouble(-100, 100) : random.nextGaussian() * 3);
        }
        x[0] = 0f;
        x[1] = -0f;
        x[2] = Float.MAX_VALUE;
        x[3] = -Float.MAX_VALUE;
        x[4] = Float.MIN_VALUE;
        return x;
    }

    @Test
    void everyValueHasTheScalarFormulasBitsWhateverItsRange() {
        float[] x = values(5_000, 1);
        SplittableRandom random = new SplittableRandom(2);
        for (int trial = 0; trial < 200; trial++) {
            int from = random.nextInt(x.length);
            int to = from + random.nextInt(x.length - from + 1);
            FloatBuffer b = FloatBuffer.wrap(x.clone());
            Gelu.apply(b, from, to);
            for (int i = 0; i < x.length; i++) {
                float expected = i >= from && i < to ? Gelu.scalar(x[i]) : x[i];
                assertThat(Float.floatToRawIntBits(b.get(i))).as("x = %s at %d of [%d, %d)", x[i], i, from, to)
                        .isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
    }

    @Test
    void isWithinAFloat32RoundingOfTheExactGelu() {
        float[] x = values(200_000, 3);
        FloatBuffer b = FloatBuffer.wrap(x.clone());
        Gelu.apply(b, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            double exact = exact(x[i]);
            double error = Math.abs(b.get(i) - exact) / Math.max(1, Math.abs(exact));
            assertThat(error).as("GELU(%s) = %s, exactly %s", x[i], b.get(i), exact).isLessThanOrEqualTo(1.5e-7);
        }
        assertThat(Gelu.scalar(Float.NaN)).isNaN();
        assertThat(Gelu.scalar(-1000f)).isZero();
        assertThat(Gelu.scalar(1000f)).isEqualTo(1000f);
    }
}
