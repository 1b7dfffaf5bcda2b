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
 *
 * <p>Layout: the rows are held in groups of four, the one-row tile's rows, interleaved a vector at a time
 * (V pairs of row 0, of row 1, 2, 3, then the next V pairs of each), the pairs past the last full vector
 * after them row by row, and the last group filled up with rows of zeros. A one-row tile then reads one
 * sequential stream instead of four, which the core's prefetchers keep ahead of the tile (docs/BENCHMARKS.md,
 * "Interleaved weight rows").
 */
final class BF16Matrix extends StreamedMatrix {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int V = F.length();
    private static final int HIGH_HALF = 0xFFFF0000;
    private static final int TILE_OUT = 2;
    private static final int ROW_TILE_OUT = 4;
    private static final int TILE_ROWS = 3;
    /** Rows interleaved together: the one-row tile's. */
    private static final int GROUP = ROW_TILE_OUT;

    private final int[] w;          // pairs of bf16 in groups of GROUP rows ({@link #index})
    private final int pairEnd;      // ceil(in / 2) rounded down to a multiple of V: the vector part, in ints

    private BF16Matrix(int[] w, int out, int in) {
        super(out, in, TILE_OUT, TILE_ROWS, ROW_TILE_OUT);
        this.w = w;
        this.pairEnd = pairEnd(in);
    }

    private static int rowInts(int in) {
        return (in + 1) / 2;
    }

    private static int pairEnd(int in) {
        return rowInts(in) - rowInts(in) % V;
    }

    /** Where pair i of row o lies in {@code w} (the class comment's layout). */
    private static int index(int o, int i, int in) {
        int rowInts = rowInts(in);
        int pairEnd = pairEnd(in);
        int group = (o - o % GROUP) * rowInts;
        int row = o % GROUP;
        return i < pairEnd
                ? group + GROUP * (i - i % V) + row * V + i % V
                : group + GROUP * pairEnd + row * (rowInts - pairEnd) + i - pairEnd;
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
        int groups = Math.addExact(out, GROUP - 1) / GROUP;
        int[] w = new int[Math.multiplyExact(groups * GROUP, rowInts(in))];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < in; k++) {
                w[index(o, k / 2, in)] |= (bits.at(o * in + k) & 0xFFFF) << (16 * (k & 1));
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
            dst[offset + k] = weight(o, k);
        }
    }

    /** Weight k of row o, as float32. */
    private float weight(int o, int k) {
        int pair = w[index(o, k / 2, in)];
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
        int w0 = index(o, 0, in);  // rows o and o + 1 are in one group (o is even)
        int w1 = w0 + V;
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
            IntVector pairs = IntVector.fromArray(I, w, w0 + GROUP * c);
            FloatVector even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            FloatVector odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c00 = odd.fma(o0, even.fma(e0, c00));
            c01 = odd.fma(o1, even.fma(e1, c01));
            c02 = odd.fma(o2, even.fma(e2, c02));
            pairs = IntVector.fromArray(I, w, w1 + GROUP * c);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c10 = odd.fma(o0, even.fma(e0, c10));
            c11 = odd.fma(o1, even.fma(e1, c11));
            c12 = odd.fma(o2, even.fma(e2, c12));
        }
        c00.intoArray(ws.lanes, 0);
        store(y, bias, r, o, tail(sumLanes(ws.lanes, V), o, xs, x0));
        c01.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o, tail(sumLanes(ws.lanes, V), o, xs, x1));
        c02.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o, tail(sumLanes(ws.lanes, V), o, xs, x2));
        c10.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, tail(sumLanes(ws.lanes, V), o + 1, xs, x0));
        c11.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o + 1, tail(sumLanes(ws.lanes, V), o + 1, xs, x1));
        c12.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o + 1, tail(sumLanes(ws.lanes, V), o + 1, xs, x2));
    }

    @Override
    void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws) {
        int group = index(o, 0, in);  // rows o..o+3 are one group (o is a multiple of 4)
        int x0 = r * in;
        FloatVector c00 = FloatVector.zero(F), c10 = c00, c20 = c00, c30 = c00;
        for (int c = 0; c < pairEnd; c += V) {
            FloatVector e0 = FloatVector.fromArray(F, xs, x0 + 2 * c);
            FloatVector o0 = FloatVector.fromArray(F, xs, x0 + 2 * c + V);
            int at = group + GROUP * c;
            IntVector pairs = IntVector.fromArray(I, w, at);
            FloatVector even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            FloatVector odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c00 = odd.fma(o0, even.fma(e0, c00));
            pairs = IntVector.fromArray(I, w, at + V);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c10 = odd.fma(o0, even.fma(e0, c10));
            pairs = IntVector.fromArray(I, w, at + 2 * V);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c20 = odd.fma(o0, even.fma(e0, c20));
            pairs = IntVector.fromArray(I, w, at + 3 * V);
            even = (FloatVector) pairs.lanewise(LSHL, 16).reinterpretShape(F, 0);
            odd = (FloatVector) pairs.lanewise(AND, HIGH_HALF).reinterpretShape(F, 0);
            c30 = odd.fma(o0, even.fma(e0, c30));
        }
        c00.intoArray(ws.lanes, 0);
        store(y, bias, r, o, tail(sumLanes(ws.lanes, V), o, xs, x0));
        c10.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, tail(sumLanes(ws.lanes, V), o + 1, xs, x0));
        c20.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 2, tail(sumLanes(ws.lanes, V), o + 2, xs, x0));
        c30.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 3, tail(sumLanes(ws.lanes, V), o + 3, xs, x0));
    }

    /** s plus the products of weight row o past the vector part, in order (none for a row of zeros). */
    private float tail(float s, int o, float[] xs, int xRow) {
        if (o >= out) {
            return s;
        }
        for (int k = 2 * pairEnd; k < in; k++) {
            s = Math.fma(weight(o, k), xs[xRow + k], s);
        }
        return s;
    }
}
