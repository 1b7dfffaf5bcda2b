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
 * loads from arrays cost a third of loads from direct buffers on Java 17. A bf16 value is the upper half
 * of a float32, so one int load gives two float vectors with one shift ({@code << 16}, the even elements)
 * and one mask ({@code & 0xFFFF0000}, the odd ones); the activations are split into even and odd elements
 * once per product to match ({@code convertShape} from short lanes is far slower on Java 17).
 *
 * <p>Register tiles: 2 weight rows x 3 activation rows (6 accumulators, the even and odd vectors of the 3
 * activation rows, the two halves of one weight vector), and for single rows 4 weight rows x 1. Each
 * element: one accumulator, per V pairs the even products then the odd ones, the lanes summed in order,
 * then the products past the last full vector of pairs one by one.
 */
final class BF16Matrix extends StreamedMatrix {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int V = F.length();
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int TILE_OUT = 2;
    private static final int ROW_TILE_OUT = 4;
    private static final int TILE_ROWS = 3;

    private final int[] w;          // (out, rowInts): pairs of bf16
    private final int rowInts;      // ceil(in / 2)
    private final int pairEnd;      // rowInts rounded down to a multiple of V: the vector part, in ints

    private BF16Matrix(int[] w, int out, int in) {
        super(out, in, TILE_OUT, TILE_ROWS, ROW_TILE_OUT);
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
    void tile(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws) {
        int w0 = Math.min(o, out - 1) * rowInts;
        int w1 = Math.min(o + 1, out - 1) * rowInts;
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        for (int c = 0; c < pairEnd; c += V) {
            FloatVector e0 = FloatVector.fromArray(F, xs, x0 + 2 * c);
            FloatVector o0 = FloatVector.fromArray(F, xs, x0 + 2 * c + V);
            FloatVector e1 = FloatVector.fromArray(F, xs, x1 + 2 * c);
            FloatVector o1 = FloatVector.fromArray(F, xs, x1 + 2 * c + V);
            FloatVector e2 = FloatVector.fromArray(F, xs, x2 + 2 * c);
            FloatVector o2 = FloatVector.fromArray(F, xs, x2 + 2 * c + V);
            IntVector pairs = IntVector.fromArray(I, w, w0 + c);
            FloatVector even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            FloatVector odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c00 = odd.fma(o0, even.fma(e0, c00));
            c01 = odd.fma(o1, even.fma(e1, c01));
            c02 = odd.fma(o2, even.fma(e2, c02));
            pairs = IntVector.fromArray(I, w, w1 + c);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c10 = odd.fma(o0, even.fma(e0, c10));
            c11 = odd.fma(o1, even.fma(e1, c11));
            c12 = odd.fma(o2, even.fma(e2, c12));
        }
        c00.intoArray(ws.lanes, 0);
        store(y, bias, r, o, tail(sumLanes(ws.lanes, V), w0, xs, x0));
        c01.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o, tail(sumLanes(ws.lanes, V), w0, xs, x1));
        c02.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o, tail(sumLanes(ws.lanes, V), w0, xs, x2));
        c10.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, tail(sumLanes(ws.lanes, V), w1, xs, x0));
        c11.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o + 1, tail(sumLanes(ws.lanes, V), w1, xs, x1));
        c12.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o + 1, tail(sumLanes(ws.lanes, V), w1, xs, x2));
    }

    @Override
    void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws) {
        int w0 = Math.min(o, out - 1) * rowInts;
        int w1 = Math.min(o + 1, out - 1) * rowInts;
        int w2 = Math.min(o + 2, out - 1) * rowInts;
        int w3 = Math.min(o + 3, out - 1) * rowInts;
        int x0 = r * in;
        FloatVector c00 = FloatVector.zero(F), c10 = c00, c20 = c00, c30 = c00;
        for (int c = 0; c < pairEnd; c += V) {
            FloatVector e0 = FloatVector.fromArray(F, xs, x0 + 2 * c);
            FloatVector o0 = FloatVector.fromArray(F, xs, x0 + 2 * c + V);
            IntVector pairs = IntVector.fromArray(I, w, w0 + c);
            FloatVector even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            FloatVector odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c00 = odd.fma(o0, even.fma(e0, c00));
            pairs = IntVector.fromArray(I, w, w1 + c);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c10 = odd.fma(o0, even.fma(e0, c10));
            pairs = IntVector.fromArray(I, w, w2 + c);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c20 = odd.fma(o0, even.fma(e0, c20));
            pairs = IntVector.fromArray(I, w, w3 + c);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c30 = odd.fma(o0, even.fma(e0, c30));
        }
        c00.intoArray(ws.lanes, 0);
        store(y, bias, r, o, tail(sumLanes(ws.lanes, V), w0, xs, x0));
        c10.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, tail(sumLanes(ws.lanes, V), w1, xs, x0));
        c20.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 2, tail(sumLanes(ws.lanes, V), w2, xs, x0));
        c30.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 3, tail(sumLanes(ws.lanes, V), w3, xs, x0));
    }

    /** s plus the products past the vector part, in order. */
    private float tail(float s, int wRow, float[] xs, int xRow) {
        for (int k = 2 * pairEnd; k < in; k++) {
            s = Math.fma(weight(wRow, k), xs[xRow + k], s);
        }
        return s;
    }
}
