package com.scratchgpt.model.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 weights, held where they lie: the ND4J array that BLAS also reads for prompts, not a copy.
 *
 * <p>Each thread copies its chunk of 16 weight rows to heap scratch before its tiles run ({@link #stage}):
 * on Java 17 a vector load from a direct buffer costs about three times one from an array, which made the
 * tiles load-bound (measured: 4 weight rows x 1 activation row, 13 against 27 GFLOP/s on one core). The
 * copy reads the rows from memory once, as the tiles would, and stays in L1/L2.
 *
 * <p>Register tiles: 2 weight rows x 3 activation rows (6 accumulators, 3 activation vectors, 1 weight
 * vector), and for single rows 4 weight rows x 1. Each element: one accumulator, lane i summing the
 * products at k = i mod V in order of k, then the lanes in order, then the in % V last products one by one.
 */
final class F32Matrix extends StreamedMatrix {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int V = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int TILE_OUT = 2;
    private static final int ROW_TILE_OUT = 4;
    private static final int TILE_ROWS = 3;

    private final FloatBuffer weights;  // (out, in), in place
    private final int vectorEnd;        // in rounded down to a multiple of V

    F32Matrix(ByteBuffer weights, int out, int in) {
        super(out, in, TILE_OUT, TILE_ROWS, ROW_TILE_OUT);
        if ((long) out * in * Float.BYTES > weights.capacity()) {
            throw new IllegalArgumentException("a (" + out + ", " + in + ") float32 matrix needs "
                    + (long) out * in * Float.BYTES + " bytes, the buffer holds " + weights.capacity());
        }
        this.weights = weights.asFloatBuffer();
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
        return (long) out * in * Float.BYTES;
    }

    @Override
    public void dequantizeRow(int o, float[] dst, int offset) {
        for (int k = 0; k < in; k++) {
            dst[offset + k] = weights.get(o * in + k);
        }
    }

    @Override
    float[] dotLayout(float[] x, int rows, Workspace ws) {
        return x;
    }

    @Override
    void tile(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws) {
        int w0 = (Math.min(o, out - 1) - ws.chunkStart) * in;
        int w1 = (Math.min(o + 1, out - 1) - ws.chunkStart) * in;
        float[] staged = ws.weights;
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        for (int k = 0; k < vectorEnd; k += V) {
            FloatVector a0 = FloatVector.fromArray(F, xs, x0 + k);
            FloatVector a1 = FloatVector.fromArray(F, xs, x1 + k);
            FloatVector a2 = FloatVector.fromArray(F, xs, x2 + k);
            FloatVector w = FloatVector.fromArray(F, staged, w0 + k);
            c00 = w.fma(a0, c00);
            c01 = w.fma(a1, c01);
            c02 = w.fma(a2, c02);
            w = FloatVector.fromArray(F, staged, w1 + k);
            c10 = w.fma(a0, c10);
            c11 = w.fma(a1, c11);
            c12 = w.fma(a2, c12);
        }
        c00.intoArray(ws.lanes, 0);
        store(y, bias, r, o, tail(sumLanes(ws.lanes, V), staged, w0, xs, x0));
        c01.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o, tail(sumLanes(ws.lanes, V), staged, w0, xs, x1));
        c02.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o, tail(sumLanes(ws.lanes, V), staged, w0, xs, x2));
        c10.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, tail(sumLanes(ws.lanes, V), staged, w1, xs, x0));
        c11.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o + 1, tail(sumLanes(ws.lanes, V), staged, w1, xs, x1));
        c12.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o + 1, tail(sumLanes(ws.lanes, V), staged, w1, xs, x2));
    }

    @Override
    void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws) {
        int w0 = (Math.min(o, out - 1) - ws.chunkStart) * in;
        int w1 = (Math.min(o + 1, out - 1) - ws.chunkStart) * in;
        int w2 = (Math.min(o + 2, out - 1) - ws.chunkStart) * in;
        int w3 = (Math.min(o + 3, out - 1) - ws.chunkStart) * in;
        float[] staged = ws.weights;
        int x0 = r * in;
        FloatVector c00 = FloatVector.zero(F), c10 = c00, c20 = c00, c30 = c00;
        for (int k = 0; k < vectorEnd; k += V) {
            FloatVector a0 = FloatVector.fromArray(F, xs, x0 + k);
            FloatVector w = FloatVector.fromArray(F, staged, w0 + k);
            c00 = w.fma(a0, c00);
            w = FloatVector.fromArray(F, staged, w1 + k);
            c10 = w.fma(a0, c10);
            w = FloatVector.fromArray(F, staged, w2 + k);
            c20 = w.fma(a0, c20);
            w = FloatVector.fromArray(F, staged, w3 + k);
            c30 = w.fma(a0, c30);
        }
        c00.intoArray(ws.lanes, 0);
        store(y, bias, r, o, tail(sumLanes(ws.lanes, V), staged, w0, xs, x0));
        c10.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, tail(sumLanes(ws.lanes, V), staged, w1, xs, x0));
        c20.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 2, tail(sumLanes(ws.lanes, V), staged, w2, xs, x0));
        c30.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 3, tail(sumLanes(ws.lanes, V), staged, w3, xs, x0));
    }

    /** Copies weight rows o0..o1-1 to the thread's heap scratch, where the tiles read them. */
    @Override
    void stage(int o0, int o1, int rows, Workspace ws) {
        int length = (o1 - o0) * in;
        if (ws.weights.length < length) {
            ws.weights = new float[CHUNK_OUT * in];
        }
        weights.get(o0 * in, ws.weights, 0, length);
        ws.chunkStart = o0;
    }

    /** s plus the products past the last full vector, in order. */
    private float tail(float s, float[] staged, int wRow, float[] xs, int xRow) {
        for (int k = vectorEnd; k < in; k++) {
            s = Math.fma(staged[wRow + k], xs[xRow + k], s);
        }
        return s;
    }
}
