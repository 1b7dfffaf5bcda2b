package com.scratchgpt.model.kernel;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * For the benchmark: q8_0's one-row product as {@link Q8_0Matrix} computes it (float32 activations, the
 * weights converted to float) against ggml's way (activations quantised to int8 per block of 32 as well,
 * int products summed per block, one float multiply-add per block), both on one thread, over the same
 * quantised weights: time, and error against the double-precision product over the stored weights.
 */
public final class Q8ActivationComparison {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(Math.min(FloatVector.SPECIES_PREFERRED.vectorBitSize(), 256)));
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int L = F.length();

    private Q8ActivationComparison() {
    }

    /** Markdown lines: one table row per way, over {@code matrices} (out, in) matrices. */
    public static List<String> compare(int matrices, int out, int in, int reps) {
        if (L != 8) {
            return List.of("(int8 activations compared only with 256-bit vectors; this machine's are " + L * 32 + ")");
        }
        Random random = new Random(5);
        List<Q8_0Matrix> weights = new ArrayList<>();
        for (int m = 0; m < matrices; m++) {
            FloatBuffer values = FloatBuffer.allocate(out * in);
            for (int i = 0; i < out * in; i++) {
                values.put(i, (float) random.nextGaussian() * 0.02f);
            }
            weights.add(Q8_0Matrix.quantize(values, out, in));
        }
        float[] x = new float[in];
        for (int k = 0; k < in; k++) {
            x[k] = (float) random.nextGaussian();
        }
        FloatBuffer xb = FloatBuffer.wrap(x);
        float[] yFloat = new float[out];
        float[] yInt = new float[out];
        FloatBuffer yb = FloatBuffer.wrap(yFloat);
        KernelPool one = new KernelPool(1);
        int[] xq = new int[in];
        float[] xd = new float[in / 32];
        double[] floatTimes = new double[reps];
        double[] intTimes = new double[reps];
        for (int rep = -2; rep < reps; rep++) {
            long start = System.nanoTime();
            for (Q8_0Matrix w : weights) {
                w.multiply(xb, null, yb, 1, one);
            }
            long middle = System.nanoTime();
            for (Q8_0Matrix w : weights) {
                quantizeActivations(x, xq, xd);
                for (int o = 0; o < out; o += 4) {
                    intDot(w, o, xq, xd, yInt);
                }
            }
            long end = System.nanoTime();
            if (rep >= 0) {
                floatTimes[rep] = (middle - start) / 1e6;
                intTimes[rep] = (end - middle) / 1e6;
            }
        }
        Arrays.sort(floatTimes);
        Arrays.sort(intTimes);
        Q8_0Matrix last = weights.get(weights.size() - 1);
        double[] errors = errors(last, x, yFloat, yInt);
        double mb = (double) matrices * last.residentBytes() / 1e6;
        return List.of(
                "| activations | time, 1 row, 1 thread | weights read | largest error / sum of abs products |",
                "| --- | --- | --- | --- |",
                String.format(Locale.ROOT, "| float32 (Q8_0Matrix) | %.2f ms | %.1f GB/s | %.1e |", floatTimes[0],
                        mb / floatTimes[0], errors[0]),
                String.format(Locale.ROOT, "| int8 per block of 32 (ggml's Q8_0 x Q8_0) | %.2f ms | %.1f GB/s | %.1e |",
                        intTimes[0], mb / intTimes[0], errors[1]));
    }

    /** x in blocks of 32, each as int8 levels (byte lanes regrouped as the weights') and a float scale. */
    private static void quantizeActivations(float[] x, int[] xq, float[] xd) {
        for (int b = 0; b < xd.length; b++) {
            float max = 0;
            for (int i = 0; i < 32; i++) {
                max = Math.max(max, Math.abs(x[32 * b + i]));
            }
            float d = max / 127;
            xd[b] = d;
            float inverse = d == 0 ? 0 : 1 / d;
            for (int l = 0; l < L; l++) {
                for (int j = 0; j < 4; j++) {
                    xq[32 * b + j * L + l] = Math.round(x[32 * b + 4 * l + j] * inverse);
                }
            }
        }
    }

    /** y[o..o+3] by int products per block, as ggml's vec_dot_q8_0_q8_0. */
    private static void intDot(Q8_0Matrix w, int o, int[] xq, float[] xd, float[] y) {
        int blocks = w.in / 32;
        int r0 = Math.min(o, w.out - 1);
        int r1 = Math.min(o + 1, w.out - 1);
        int r2 = Math.min(o + 2, w.out - 1);
        int r3 = Math.min(o + 3, w.out - 1);
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int b = 0; b < blocks; b++) {
            IntVector a0 = IntVector.fromArray(I, xq, 32 * b);
            IntVector a1 = IntVector.fromArray(I, xq, 32 * b + L);
            IntVector a2 = IntVector.fromArray(I, xq, 32 * b + 2 * L);
            IntVector a3 = IntVector.fromArray(I, xq, 32 * b + 3 * L);
            float dx = xd[b];
            IntVector v = IntVector.fromArray(I, w.q, w.at(r0, b * L));
            IntVector s = v.lanewise(LSHL, 24).lanewise(ASHR, 24).mul(a0).add(v.lanewise(LSHL, 16).lanewise(ASHR, 24).mul(a1))
                    .add(v.lanewise(LSHL, 8).lanewise(ASHR, 24).mul(a2)).add(v.lanewise(ASHR, 24).mul(a3));
            c0 = ((FloatVector) s.convertShape(I2F, F, 0)).fma(FloatVector.broadcast(F, Float16.toFloat(w.scale[w.scaleAt(r0, b)]) * dx), c0);
            v = IntVector.fromArray(I, w.q, w.at(r1, b * L));
            s = v.lanewise(LSHL, 24).lanewise(ASHR, 24).mul(a0).add(v.lanewise(LSHL, 16).lanewise(ASHR, 24).mul(a1))
                    .add(v.lanewise(LSHL, 8).lanewise(ASHR, 24).mul(a2)).add(v.lanewise(ASHR, 24).mul(a3));
            c1 = ((FloatVector) s.convertShape(I2F, F, 0)).fma(FloatVector.broadcast(F, Float16.toFloat(w.scale[w.scaleAt(r1, b)]) * dx), c1);
            v = IntVector.fromArray(I, w.q, w.at(r2, b * L));
            s = v.lanewise(LSHL, 24).lanewise(ASHR, 24).mul(a0).add(v.lanewise(LSHL, 16).lanewise(ASHR, 24).mul(a1))
                    .add(v.lanewise(LSHL, 8).lanewise(ASHR, 24).mul(a2)).add(v.lanewise(ASHR, 24).mul(a3));
            c2 = ((FloatVector) s.convertShape(I2F, F, 0)).fma(FloatVector.broadcast(F, Float16.toFloat(w.scale[w.scaleAt(r2, b)]) * dx), c2);
            v = IntVector.fromArray(I, w.q, w.at(r3, b * L));
            s = v.lanewise(LSHL, 24).lanewise(ASHR, 24).mul(a0).add(v.lanewise(LSHL, 16).lanewise(ASHR, 24).mul(a1))
                    .add(v.lanewise(LSHL, 8).lanewise(ASHR, 24).mul(a2)).add(v.lanewise(ASHR, 24).mul(a3));
            c3 = ((FloatVector) s.convertShape(I2F, F, 0)).fma(FloatVector.broadcast(F, Float16.toFloat(w.scale[w.scaleAt(r3, b)]) * dx), c3);
        }
        float[] lanes = new float[L];
        c0.intoArray(lanes, 0);
        y[r0] = StreamedMatrix.sumLanes(lanes, L);
        c1.intoArray(lanes, 0);
        y[r1] = StreamedMatrix.sumLanes(lanes, L);
        c2.intoArray(lanes, 0);
        y[r2] = StreamedMatrix.sumLanes(lanes, L);
        c3.intoArray(lanes, 0);
        y[r3] = StreamedMatrix.sumLanes(lanes, L);
    }

    /** Largest |error| / sum of |products| over the rows, for each way, against the double product. */
    private static double[] errors(Q8_0Matrix w, float[] x, float[] yFloat, float[] yInt) {
        double[] worst = new double[2];
        float[] row = new float[w.in];
        for (int o = 0; o < w.out; o++) {
            w.dequantizeRow(o, row, 0);
            double exact = 0;
            double magnitude = 0;
            for (int k = 0; k < w.in; k++) {
                exact += (double) row[k] * x[k];
                magnitude += Math.abs((double) row[k] * x[k]);
            }
            worst[0] = Math.max(worst[0], Math.abs(yFloat[o] - exact) / magnitude);
            worst[1] = Math.max(worst[1], Math.abs(yInt[o] - exact) / magnitude);
        }
        return worst;
    }
}
