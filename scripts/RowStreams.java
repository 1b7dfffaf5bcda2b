import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.LSHL;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * How fast a one-row bf16 tile (4 weight rows x 1 activation row, BF16Matrix.tile1's arithmetic) streams its
 * weights from memory, with the four rows read as four streams (row by row, the layout before "Interleaved
 * weight rows" in docs/BENCHMARKS.md) and as one (interleaved a vector at a time, the layout now), against a
 * plain read of the same four streams with no arithmetic, and against the interleaved tile over 64 rows that stay
 * in L2 (what the arithmetic alone allows). 192 MB of weights in rows of 768, on 1 and 2 threads.
 *
 *   java --add-modules jdk.incubator.vector scripts/RowStreams.java
 */
public class RowStreams {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final int V = F.length();
    static final int IN = 768;
    static final int ROW = IN / 2; // ints: pairs of bf16
    static final int HIGH_HALF = 0xFFFF0000;

    interface Kernel {
        float run(int[] w, float[] xs, int o0, int o1);
    }

    /** Rows o..o+3 each read as its own stream, as they lie one after another. */
    static float rowByRow(int[] w, float[] xs, int o0, int o1) {
        float sum = 0;
        for (int o = o0; o < o1; o += 4) {
            int w0 = o * ROW, w1 = w0 + ROW, w2 = w1 + ROW, w3 = w2 + ROW;
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
            for (int c = 0; c < ROW; c += V) {
                FloatVector even = FloatVector.fromArray(F, xs, 2 * c);
                FloatVector odd = FloatVector.fromArray(F, xs, 2 * c + V);
                IntVector p = IntVector.fromArray(I, w, w0 + c);
                c0 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c0));
                p = IntVector.fromArray(I, w, w1 + c);
                c1 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c1));
                p = IntVector.fromArray(I, w, w2 + c);
                c2 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c2));
                p = IntVector.fromArray(I, w, w3 + c);
                c3 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c3));
            }
            sum += c0.add(c1).add(c2).add(c3).reduceLanes(ADD);
        }
        return sum;
    }

    /** Rows o..o+3 interleaved a vector at a time: one stream. */
    static float interleaved(int[] w, float[] xs, int o0, int o1) {
        float sum = 0;
        for (int o = o0; o < o1; o += 4) {
            int group = o * ROW;
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
            for (int c = 0; c < ROW; c += V) {
                FloatVector even = FloatVector.fromArray(F, xs, 2 * c);
                FloatVector odd = FloatVector.fromArray(F, xs, 2 * c + V);
                int at = group + 4 * c;
                IntVector p = IntVector.fromArray(I, w, at);
                c0 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c0));
                p = IntVector.fromArray(I, w, at + V);
                c1 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c1));
                p = IntVector.fromArray(I, w, at + 2 * V);
                c2 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c2));
                p = IntVector.fromArray(I, w, at + 3 * V);
                c3 = ((FloatVector) p.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0)).fma(odd,
                        ((FloatVector) p.lanewise(LSHL, 16).reinterpretShape(F, 0)).fma(even, c3));
            }
            sum += c0.add(c1).add(c2).add(c3).reduceLanes(ADD);
        }
        return sum;
    }

    /** The four row-by-row streams read with no arithmetic: what the memory gives one loop. */
    static float readOnly(int[] w, float[] xs, int o0, int o1) {
        IntVector c0 = IntVector.zero(I), c1 = c0, c2 = c0, c3 = c0;
        for (int o = o0; o < o1; o += 4) {
            int w0 = o * ROW;
            for (int c = 0; c < ROW; c += V) {
                c0 = c0.add(IntVector.fromArray(I, w, w0 + c));
                c1 = c1.add(IntVector.fromArray(I, w, w0 + ROW + c));
                c2 = c2.add(IntVector.fromArray(I, w, w0 + 2 * ROW + c));
                c3 = c3.add(IntVector.fromArray(I, w, w0 + 3 * ROW + c));
            }
        }
        return c0.add(c1).add(c2).add(c3).reduceLanes(ADD);
    }

    /** The interleaved tile over the first 64 rows of the range, as many times as the range has 64 rows. */
    static float inCache(int[] w, float[] xs, int o0, int o1) {
        float sum = 0;
        for (int o = o0; o < o1; o += 64) {
            sum += interleaved(w, xs, o0, o0 + 64);
        }
        return sum;
    }

    public static void main(String[] args) throws Exception {
        int out = 4 * 32768; // 200 MB of bf16 pairs
        int[] w = new int[out * ROW];
        for (int i = 0; i < w.length; i++) {
            w[i] = 0x3F803F80 ^ (i & 0x000F000F);
        }
        float[] xs = new float[IN];
        for (int i = 0; i < IN; i++) {
            xs[i] = 1f / (i + 1);
        }
        String[] names = {"four streams (row by row)", "one stream (interleaved)", "read only, four streams",
            "one stream, rows in L2"};
        Kernel[] kernels = {RowStreams::rowByRow, RowStreams::interleaved, RowStreams::readOnly, RowStreams::inCache};
        ExecutorService pool = Executors.newFixedThreadPool(2);
        double[][] best = new double[kernels.length][3];
        float sink = 0;
        for (int round = 0; round < 8; round++) {
            for (int k = 0; k < kernels.length; k++) {
                for (int threads = 1; threads <= 2; threads++) {
                    Kernel kernel = kernels[k];
                    int part = out / threads;
                    long start = System.nanoTime();
                    List<Future<Float>> parts = new ArrayList<>();
                    for (int t = 0; t < threads; t++) {
                        int o0 = t * part;
                        parts.add(pool.submit(() -> kernel.run(w, xs, o0, o0 + part)));
                    }
                    for (Future<Float> f : parts) {
                        sink += f.get();
                    }
                    double gbs = 4.0 * w.length / (System.nanoTime() - start);
                    if (round >= 3) { // after the JIT's warm-up
                        best[k][threads] = Math.max(best[k][threads], gbs);
                    }
                }
            }
        }
        pool.shutdown();
        System.out.printf("%s; best of 5 passes over %d MB (checksum %.3g)%n", F, 4L * w.length >> 20, sink);
        for (int k = 0; k < kernels.length; k++) {
            System.out.printf("%-28s 1 thread %5.1f GB/s   2 threads %5.1f GB/s%n", names[k], best[k][1], best[k][2]);
        }
    }
}
