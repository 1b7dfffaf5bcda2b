package com.scratchgpt.model.kernel;

import static jdk.incubator.vector.VectorOperators.AND;
import static jdk.incubator.vector.VectorOperators.LSHL;

import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * bfloat16 weights, two to an int (element 2i in the low half, 2i+1 in the high half), on the Java heap:
 * loads from arrays cost less than from direct buffers on Java 17. A bf16 value is the upper half of a
 * float32, so one int load gives two float vectors with one shift ({@code << 16}, the even elements) and
 * one mask ({@code & 0xFFFF0000}, the odd ones); the activations are split into even and odd elements once
 * per product to match ({@code convertShape} from short lanes is far slower on Java 17).
 *
 * <p>Register tile: 4 weight rows x 2 activation rows, 8 accumulators + the even and odd vectors of both
 * activation rows + the two halves of one weight vector. Each element: one accumulator, per V pairs the
 * even products then the odd ones, the lanes summed in order, then the products past the last full
 * vector of pairs one by one.
 */
final class BF16Matrix extends StreamedMatrix {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int V = F.length();
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int TILE_ROWS = 2;

    private final int[] w;          // (out, rowInts): pairs of bf16
    private final int rowInts;      // ceil(in / 2)
    private final int pairEnd;      // rowInts rounded down to a multiple of V: the vector part, in ints

    private BF16Matrix(int[] w, int out, int in) {
        super(out, in, TILE_ROWS);
        this.w = w;
        this.rowInts = (in + 1) / 2;
        this.pairEnd = rowInts - rowInts % V;
    }

    /** The bits of one weight, by its flat index (out * in + k). */
    private interface Bits {
        short at(int index);
    }

    static BF16Matrix of(FloatBuffer values, int out, int in) {
        return pack(out, in, i -> round(values.get(i)));
    }

    static BF16Matrix fromBf16(ShortBuffer bits, int out, int in) {
        return pack(out, in, bits::get);
    }

    static BF16Matrix fromF16(ShortBuffer bits, int out, int in) {
        return pack(out, in, i -> round(Float16.toFloat(bits.get(i))));
    }

    private static BF16Matrix pack(int out, int in, Bits bits) {
        int rowInts = (in + 1) / 2;
        int[] w = new int[Math.multiplyExact(out, rowInts)];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < in; k++) {
                w[o * rowInts + k / 2] |= (bits.at(o * in + k) & 0xFFFF) << (16 * (k & 1));
            }
        }
        return new BF16Matrix(w, out, in);
    }

    /**
     * The bfloat16 nearest to {@code value}, ties to even, as PyTorch's {@code .to(torch.bfloat16)}. NaN
     * stays a quiet NaN of the same sign (PyTorch itself gives 0xFFFF or 0x7FC0 depending on the code path).
     */
    static short round(float value) {
        if (Float.isNaN(value)) {
            return (short) ((Float.floatToRawIntBits(value) >>> 16) & 0x8000 | 0x7FC0);
        }
        int bits = Float.floatToRawIntBits(value);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    @Override
    public WeightFormat format() {
        return WeightFormat.BF16;
    }

    @Override
    public long residentBytes() {
        return (long) w.length * Integer.BYTES;
    }

    @Override
    public void dequantizeRow(int o, float[] dst, int offset) {
        for (int k = 0; k < in; k++) {
            dst[offset + k] = weight(o * rowInts, k);
        }
    }

    /** Weight k of the row starting at int {@code rowStart}, as float32. */
    private float weight(int rowStart, int k) {
        int pair = w[rowStart + k / 2];
        return Float.intBitsToFloat((k & 1) == 0 ? pair << 16 : pair & HIGH_HALF);
    }

    /** Per row: for each V pairs, their V even elements then their V odd ones; past those, as they were. */
    @Override
    float[] dotLayout(float[] x, int rows, Workspace ws) {
        float[] xs = ws.dot(rows * in);
        for (int r = 0; r < rows; r++) {
            int base = r * in;
            for (int c = 0; c < pairEnd; c += V) {
                for (int l = 0; l < V; l++) {
                    xs[base + 2 * c + l] = x[base + 2 * (c + l)];
                    xs[base + 2 * c + V + l] = x[base + 2 * (c + l) + 1];
                }
            }
            System.arraycopy(x, base + 2 * pairEnd, xs, base + 2 * pairEnd, in - 2 * pairEnd);
        }
        return xs;
    }

    @Override
    void tile(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y) {
        int w0 = row(o) * rowInts;
        int w1 = row(o + 1) * rowInts;
        int w2 = row(o + 2) * rowInts;
        int w3 = row(o + 3) * rowInts;
        int x0 = r * in;
        int x1 = x0 + in;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00;
        FloatVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int c = 0; c < pairEnd; c += V) {
            FloatVector ae = FloatVector.fromArray(F, xs, x0 + 2 * c);
            FloatVector ao = FloatVector.fromArray(F, xs, x0 + 2 * c + V);
            FloatVector be = FloatVector.fromArray(F, xs, x1 + 2 * c);
            FloatVector bo = FloatVector.fromArray(F, xs, x1 + 2 * c + V);
            IntVector v = IntVector.fromArray(I, w, w0 + c);
            FloatVector even = v.lanewise(LSHL, 16).reinterpretAsFloats();
            FloatVector odd = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats();
            c00 = odd.fma(ao, even.fma(ae, c00));
            c01 = odd.fma(bo, even.fma(be, c01));
            v = IntVector.fromArray(I, w, w1 + c);
            even = v.lanewise(LSHL, 16).reinterpretAsFloats();
            odd = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats();
            c10 = odd.fma(ao, even.fma(ae, c10));
            c11 = odd.fma(bo, even.fma(be, c11));
            v = IntVector.fromArray(I, w, w2 + c);
            even = v.lanewise(LSHL, 16).reinterpretAsFloats();
            odd = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats();
            c20 = odd.fma(ao, even.fma(ae, c20));
            c21 = odd.fma(bo, even.fma(be, c21));
            v = IntVector.fromArray(I, w, w3 + c);
            even = v.lanewise(LSHL, 16).reinterpretAsFloats();
            odd = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats();
            c30 = odd.fma(ao, even.fma(ae, c30));
            c31 = odd.fma(bo, even.fma(be, c31));
        }
        store(y, bias, r, o, dot(c00, w0, xs, x0));
        store(y, bias, r + 1, o, dot(c01, w0, xs, x1));
        store(y, bias, r, o + 1, dot(c10, w1, xs, x0));
        store(y, bias, r + 1, o + 1, dot(c11, w1, xs, x1));
        store(y, bias, r, o + 2, dot(c20, w2, xs, x0));
        store(y, bias, r + 1, o + 2, dot(c21, w2, xs, x1));
        store(y, bias, r, o + 3, dot(c30, w3, xs, x0));
        store(y, bias, r + 1, o + 3, dot(c31, w3, xs, x1));
    }

    @Override
    void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y) {
        int w0 = row(o) * rowInts;
        int w1 = row(o + 1) * rowInts;
        int w2 = row(o + 2) * rowInts;
        int w3 = row(o + 3) * rowInts;
        int x0 = r * in;
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int c = 0; c < pairEnd; c += V) {
            FloatVector ae = FloatVector.fromArray(F, xs, x0 + 2 * c);
            FloatVector ao = FloatVector.fromArray(F, xs, x0 + 2 * c + V);
            IntVector v = IntVector.fromArray(I, w, w0 + c);
            c0 = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(ao, v.lanewise(LSHL, 16).reinterpretAsFloats().fma(ae, c0));
            v = IntVector.fromArray(I, w, w1 + c);
            c1 = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(ao, v.lanewise(LSHL, 16).reinterpretAsFloats().fma(ae, c1));
            v = IntVector.fromArray(I, w, w2 + c);
            c2 = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(ao, v.lanewise(LSHL, 16).reinterpretAsFloats().fma(ae, c2));
            v = IntVector.fromArray(I, w, w3 + c);
            c3 = v.lanewise(AND, HIGH_HALF).reinterpretAsFloats().fma(ao, v.lanewise(LSHL, 16).reinterpretAsFloats().fma(ae, c3));
        }
        store(y, bias, r, o, dot(c0, w0, xs, x0));
        store(y, bias, r, o + 1, dot(c1, w1, xs, x0));
        store(y, bias, r, o + 2, dot(c2, w2, xs, x0));
        store(y, bias, r, o + 3, dot(c3, w3, xs, x0));
    }

    /** The accumulator's lanes summed, then the weights past the vector part, in order. */
    private float dot(FloatVector acc, int wRow, float[] xs, int xRow) {
        float s = sumLanes(acc);
        for (int k = 2 * pairEnd; k < in; k++) {
            s = Math.fma(weight(wRow, k), xs[xRow + k], s);
        }
        return s;
    }
}
