package com.scratchgpt.model.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 weights, read where they lie (the ND4J array BLAS also uses for prompts). Register tile: 4 weight
 * rows x 3 activation rows, 12 accumulators + 3 activation vectors + 1 weight vector: AVX2's 16 registers.
 * Each element: one accumulator, lane i summing the products at k = i mod V in order of k, then the lanes
 * in order, then the in % V last products one by one.
 */
final class F32Matrix extends StreamedMatrix {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int TILE_ROWS = 3;

    private final ByteBuffer w;   // (out, in) float32, native order
    private final int rowBytes;
    private final int vectorEnd;  // in rounded down to a multiple of V

    F32Matrix(ByteBuffer weights, int out, int in) {
        super(out, in, TILE_ROWS);
        if ((long) out * in * Float.BYTES > weights.capacity()) {
            throw new IllegalArgumentException("a (" + out + ", " + in + ") float32 matrix needs "
                    + (long) out * in * Float.BYTES + " bytes, the buffer holds " + weights.capacity());
        }
        this.w = weights;
        this.rowBytes = in * Float.BYTES;
        this.vectorEnd = in - in % V;
    }

    static F32Matrix copyOf(FloatBuffer values, int out, int in) {
        ByteBuffer copy = ByteBuffer.allocateDirect(Math.multiplyExact(Math.multiplyExact(out, in), Float.BYTES))
                .order(ORDER);
        for (int i = 0; i < out * in; i++) {
            copy.putFloat(i * Float.BYTES, values.get(i));
        }
        return new F32Matrix(copy, out, in);
    }

    static String species() {
        return F.toString();
    }

    @Override
    public WeightFormat format() {
        return WeightFormat.F32;
    }

    @Override
    public long residentBytes() {
        return (long) out * rowBytes;
    }

    @Override
    public void dequantizeRow(int o, float[] dst, int offset) {
        for (int k = 0; k < in; k++) {
            dst[offset + k] = w.getFloat(o * rowBytes + k * Float.BYTES);
        }
    }

    @Override
    float[] dotLayout(float[] x, int rows, Workspace ws) {
        return x;
    }

    @Override
    void tile(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y) {
        int w0 = row(o) * rowBytes;
        int w1 = row(o + 1) * rowBytes;
        int w2 = row(o + 2) * rowBytes;
        int w3 = row(o + 3) * rowBytes;
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
        for (int k = 0; k < vectorEnd; k += V) {
            FloatVector a = FloatVector.fromArray(F, xs, x0 + k);
            FloatVector b = FloatVector.fromArray(F, xs, x1 + k);
            FloatVector c = FloatVector.fromArray(F, xs, x2 + k);
            int kb = k * Float.BYTES;
            FloatVector v = load(w0 + kb);
            c00 = v.fma(a, c00);
            c01 = v.fma(b, c01);
            c02 = v.fma(c, c02);
            v = load(w1 + kb);
            c10 = v.fma(a, c10);
            c11 = v.fma(b, c11);
            c12 = v.fma(c, c12);
            v = load(w2 + kb);
            c20 = v.fma(a, c20);
            c21 = v.fma(b, c21);
            c22 = v.fma(c, c22);
            v = load(w3 + kb);
            c30 = v.fma(a, c30);
            c31 = v.fma(b, c31);
            c32 = v.fma(c, c32);
        }
        store(y, bias, r, o, dot(c00, w0, xs, x0));
        store(y, bias, r + 1, o, dot(c01, w0, xs, x1));
        store(y, bias, r + 2, o, dot(c02, w0, xs, x2));
        store(y, bias, r, o + 1, dot(c10, w1, xs, x0));
        store(y, bias, r + 1, o + 1, dot(c11, w1, xs, x1));
        store(y, bias, r + 2, o + 1, dot(c12, w1, xs, x2));
        store(y, bias, r, o + 2, dot(c20, w2, xs, x0));
        store(y, bias, r + 1, o + 2, dot(c21, w2, xs, x1));
        store(y, bias, r + 2, o + 2, dot(c22, w2, xs, x2));
        store(y, bias, r, o + 3, dot(c30, w3, xs, x0));
        store(y, bias, r + 1, o + 3, dot(c31, w3, xs, x1));
        store(y, bias, r + 2, o + 3, dot(c32, w3, xs, x2));
    }

    @Override
    void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y) {
        int w0 = row(o) * rowBytes;
        int w1 = row(o + 1) * rowBytes;
        int w2 = row(o + 2) * rowBytes;
        int w3 = row(o + 3) * rowBytes;
        int x0 = r * in;
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int k = 0; k < vectorEnd; k += V) {
            FloatVector a = FloatVector.fromArray(F, xs, x0 + k);
            int kb = k * Float.BYTES;
            c0 = load(w0 + kb).fma(a, c0);
            c1 = load(w1 + kb).fma(a, c1);
            c2 = load(w2 + kb).fma(a, c2);
            c3 = load(w3 + kb).fma(a, c3);
        }
        store(y, bias, r, o, dot(c0, w0, xs, x0));
        store(y, bias, r, o + 1, dot(c1, w1, xs, x0));
        store(y, bias, r, o + 2, dot(c2, w2, xs, x0));
        store(y, bias, r, o + 3, dot(c3, w3, xs, x0));
    }

    private FloatVector load(int byteOffset) {
        return FloatVector.fromByteBuffer(F, w, byteOffset, ORDER);
    }

    /** The accumulator's lanes summed, then the products past the last full vector, in order. */
    private float dot(FloatVector acc, int wRow, float[] xs, int xRow) {
        float s = sumLanes(acc);
        for (int k = vectorEnd; k < in; k++) {
            s = Math.fma(w.getFloat(wRow + k * Float.BYTES), xs[xRow + k], s);
        }
        return s;
    }
}
