import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

import com.scratchgpt.model.kernel.Gelu;

/**
 * The seeds' GELU on one thread, as the service computes it with the Vector API (model/kernel/Gelu, float32)
 * and without it (FeedForward's scalar path in double): nanoseconds an element over 36,864 values (a
 * 12-row step's hidden layer) in a direct buffer, best of 8 rounds, and the float32 path's worst error
 * against the GELU in double (relative above 1, absolute below) over 2 million values in [-100, 100].
 *
 *   ./mvnw -o -q compile && java --add-modules jdk.incubator.vector -cp target/classes scripts/GeluRate.java
 */
public class GeluRate {

    static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    static double exact(double x) {
        return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    }

    /** FeedForward's path without the Vector API. */
    static void scalarDouble(FloatBuffer b, int n) {
        for (int i = 0; i < n; i++) {
            double x = b.get(i);
            double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
            double tanh = 1.0 - 2.0 / (Math.exp(2.0 * u) + 1.0);
            b.put(i, (float) (0.5 * x * (1.0 + tanh)));
        }
    }

    public static void main(String[] args) {
        int n = 2_000_000;
        Random random = new Random(3);
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = i < n / 2 ? (float) (random.nextGaussian() * 3)
                    : (float) ((random.nextDouble() * 2 - 1) * (i % 3 == 0 ? 100 : 12));
        }
        FloatBuffer all = FloatBuffer.wrap(xs.clone());
        Gelu.apply(all, 0, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = exact(xs[i]);
            worst = Math.max(worst, Math.abs(all.get(i) - e) / Math.max(1.0, Math.abs(e)));
        }
        System.out.printf("float32 Vector API path: worst error %.3g over %d values%n", worst, n);

        int m = 12 * 3072;
        FloatBuffer b = ByteBuffer.allocateDirect(m * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        double vector = Double.MAX_VALUE;
        double scalar = Double.MAX_VALUE;
        for (int round = 0; round < 8; round++) {
            b.put(0, xs, 0, m);
            long t0 = System.nanoTime();
            for (int k = 0; k < 20; k++) {
                Gelu.apply(b, 0, m);
            }
            long t1 = System.nanoTime();
            b.put(0, xs, 0, m);
            long t2 = System.nanoTime();
            for (int k = 0; k < 20; k++) {
                scalarDouble(b, m);
            }
            long t3 = System.nanoTime();
            vector = Math.min(vector, (t1 - t0) / 20.0 / m);
            scalar = Math.min(scalar, (t3 - t2) / 20.0 / m);
        }
        System.out.printf("ns an element, one thread: Vector API float32 %.2f, scalar double %.2f (%.1fx)%n",
                vector, scalar, scalar / vector);
    }
}
