package com.scratchgpt.model.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One query row of one attention head against the keys and values cached before it:
 * {@code softmax(q · K^T * scale) · V} over the positions it may see, as the seeds' causal attention
 * computes each row of its (tokens, tokens) score matrix.
 *
 * <p>Every sum runs in one fixed order that depends only on the head size and the positions seen, never on
 * the other rows of a step: a score is lane i of one accumulator summing the products at d = i mod V in
 * order of d, then the lanes in order, then the last head-size % V products one by one; the softmax's sum
 * runs over the positions in order; an output element sums the weighted values position by position. A
 * row's output thus has the same bits whatever the batch it runs in (BLAS, which served this before, picks
 * its blocking and threads by the shape of the whole call).
 *
 * <p>For decoding (one row per sequence; a short prompt a few): the keys and values are read where they lie
 * (the KV cache, off-heap) once per row and head. Long prompts go through BLAS, where the chunk's shape,
 * not its company, decides the blocking.
 */
public final class ScaledDotProductAttention {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private ScaledDotProductAttention() {
    }

    /**
     * Writes one row of one head: out[outAt, outAt + headDim) = softmax(q · K^T * scale) · V.
     *
     * @param q       the query, q[qAt, qAt + headDim) (float offsets into a native-order buffer)
     * @param keys    position p's key of this head at keys[kvAt + p * stride, ... + headDim), p in [0, visible)
     * @param values  the values, laid out as the keys
     * @param visible how many positions the row sees (its own included): the causal mask
     */
    public static void attend(ByteBuffer q, int qAt, ByteBuffer keys, ByteBuffer values, int kvAt, int stride,
                              int visible, int headDim, float scale, ByteBuffer out, int outAt) {
        Scratch s = SCRATCH.get();
        float[] query = s.query(headDim);
        for (int d = 0; d < headDim; d++) {
            query[d] = q.getFloat((qAt + d) * Float.BYTES);
        }
        float[] weights = s.weights(visible);
        scores(query, keys, kvAt, stride, visible, headDim, scale, weights, s.lanes);
        softmax(weights, visible);
        weightedValues(weights, values, kvAt, stride, visible, headDim, out, outAt);
    }

    /** weights[p] = (q · k_p) * scale for p in [0, visible), four positions a pass (each reduced on its own). */
    private static void scores(float[] q, ByteBuffer keys, int kvAt, int stride, int visible, int headDim, float scale,
                               float[] weights, float[] lanes) {
        int vectorEnd = headDim - headDim % V;
        int p = 0;
        for (; p + 4 <= visible; p += 4) {
            int k0 = (kvAt + p * stride) * Float.BYTES;
            int k1 = k0 + stride * Float.BYTES;
            int k2 = k1 + stride * Float.BYTES;
            int k3 = k2 + stride * Float.BYTES;
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
            for (int d = 0; d < vectorEnd; d += V) {
                FloatVector a = FloatVector.fromArray(F, q, d);
                c0 = FloatVector.fromByteBuffer(F, keys, k0 + d * Float.BYTES, ORDER).fma(a, c0);
                c1 = FloatVector.fromByteBuffer(F, keys, k1 + d * Float.BYTES, ORDER).fma(a, c1);
                c2 = FloatVector.fromByteBuffer(F, keys, k2 + d * Float.BYTES, ORDER).fma(a, c2);
                c3 = FloatVector.fromByteBuffer(F, keys, k3 + d * Float.BYTES, ORDER).fma(a, c3);
            }
            c0.intoArray(lanes, 0);
            weights[p] = tail(StreamedMatrix.sumLanes(lanes, V), q, keys, k0, vectorEnd, headDim) * scale;
            c1.intoArray(lanes, 0);
            weights[p + 1] = tail(StreamedMatrix.sumLanes(lanes, V), q, keys, k1, vectorEnd, headDim) * scale;
            c2.intoArray(lanes, 0);
            weights[p + 2] = tail(StreamedMatrix.sumLanes(lanes, V), q, keys, k2, vectorEnd, headDim) * scale;
            c3.intoArray(lanes, 0);
            weights[p + 3] = tail(StreamedMatrix.sumLanes(lanes, V), q, keys, k3, vectorEnd, headDim) * scale;
        }
        for (; p < visible; p++) {
            int k0 = (kvAt + p * stride) * Float.BYTES;
            FloatVector c0 = FloatVector.zero(F);
            for (int d = 0; d < vectorEnd; d += V) {
                c0 = FloatVector.fromByteBuffer(F, keys, k0 + d * Float.BYTES, ORDER).fma(FloatVector.fromArray(F, q, d), c0);
            }
            c0.intoArray(lanes, 0);
            weights[p] = tail(StreamedMatrix.sumLanes(lanes, V), q, keys, k0, vectorEnd, headDim) * scale;
        }
    }

    /** s plus the products past the last full vector, in order. */
    private static float tail(float s, float[] q, ByteBuffer keys, int keyAt, int vectorEnd, int headDim) {
        for (int d = vectorEnd; d < headDim; d++) {
            s = Math.fma(keys.getFloat(keyAt + d * Float.BYTES), q[d], s);
        }
        return s;
    }

    /** The seeds' softmax over w[0, n), in place: exp(w - max) / sum, the sum in double, in order. */
    static void softmax(float[] w, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int p = 0; p < n; p++) {
            max = Math.max(max, w[p]);
        }
        double sum = 0;
        for (int p = 0; p < n; p++) {
            float e = (float) Math.exp(w[p] - max);
            w[p] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int p = 0; p < n; p++) {
            w[p] *= inv;
        }
    }

    /** out[d] = sum over p in order of w[p] * v_p[d], four vectors of d a pass, then one, then one d at a time. */
    private static void weightedValues(float[] w, ByteBuffer values, int kvAt, int stride, int visible, int headDim,
                                       ByteBuffer out, int outAt) {
        int vectorEnd = headDim - headDim % V;
        int d = 0;
        for (; d + 4 * V <= vectorEnd; d += 4 * V) {
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
            for (int p = 0; p < visible; p++) {
                int at = (kvAt + p * stride + d) * Float.BYTES;
                FloatVector weight = FloatVector.broadcast(F, w[p]);
                c0 = FloatVector.fromByteBuffer(F, values, at, ORDER).fma(weight, c0);
                c1 = FloatVector.fromByteBuffer(F, values, at + V * Float.BYTES, ORDER).fma(weight, c1);
                c2 = FloatVector.fromByteBuffer(F, values, at + 2 * V * Float.BYTES, ORDER).fma(weight, c2);
                c3 = FloatVector.fromByteBuffer(F, values, at + 3 * V * Float.BYTES, ORDER).fma(weight, c3);
            }
            int o = (outAt + d) * Float.BYTES;
            c0.intoByteBuffer(out, o, ORDER);
            c1.intoByteBuffer(out, o + V * Float.BYTES, ORDER);
            c2.intoByteBuffer(out, o + 2 * V * Float.BYTES, ORDER);
            c3.intoByteBuffer(out, o + 3 * V * Float.BYTES, ORDER);
        }
        for (; d < vectorEnd; d += V) {
            FloatVector c0 = FloatVector.zero(F);
            for (int p = 0; p < visible; p++) {
                int at = (kvAt + p * stride + d) * Float.BYTES;
                c0 = FloatVector.fromByteBuffer(F, values, at, ORDER).fma(FloatVector.broadcast(F, w[p]), c0);
            }
            c0.intoByteBuffer(out, (outAt + d) * Float.BYTES, ORDER);
        }
        for (; d < headDim; d++) {
            float c = 0;
            for (int p = 0; p < visible; p++) {
                c = Math.fma(values.getFloat((kvAt + p * stride + d) * Float.BYTES), w[p], c);
            }
            out.putFloat((outAt + d) * Float.BYTES, c);
        }
    }

    /** Per-thread memory: the query, the row's scores (then weights), an accumulator's lanes. */
    private static final class Scratch {

        final float[] lanes = new float[StreamedMatrix.MAX_LANES];
        private float[] query = new float[0];
        private float[] weights = new float[0];

        float[] query(int n) {
            if (query.length < n) {
                query = new float[n];
            }
            return query;
        }

        float[] weights(int n) {
            if (weights.length < n) {
                weights = new float[n];
            }
            return weights;
        }
    }
}
