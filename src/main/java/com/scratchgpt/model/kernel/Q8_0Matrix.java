package com.scratchgpt.model.kernel;

import static jdk.incubator.vector.VectorOperators.ASHR;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;

import java.nio.FloatBuffer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * GGML's Q8_0: each row cut into blocks of 32 weights, a block held as 32 int8 q and one binary16 scale d,
 * weight = q * d (34 bytes per 32 weights, 1.0625 a weight). Built from float32 by choosing d so that the
 * largest |weight| of the block maps into -127..127 and rounding each weight to its nearest q: every
 * weight comes back within d / 2.
 *
 * <p>Why binary16 scales, as GGML: 5.6 % fewer bytes to stream than float32 scales (1.0625 against 1.125 a
 * weight), GGUF's Q8_0 blocks could be used as they are, and a scale is read once per 32 weights and
 * converted through a 64 K table ({@link Float16}), which costs nothing a memory-bound product would see.
 *
 * <p>The product keeps the activations in float32 and converts the weights: int8 lanes come out of int
 * vectors by shifts and {@code I2F} (Java 17's {@code convertShape} from bytes is far slower), are
 * multiplied with the activations regrouped once per product to match, summed over the block and scaled
 * by d once per block. Quantising the activations to int8 as well, as ggml's {@code vec_dot_q8_0_q8_0}
 * does, pays off with int8 dot-product instructions that Java 17's Vector API cannot reach; with int
 * multiplies it was no faster (docs/BENCHMARKS.md) and adds the activations' rounding error.
 *
 * <p>Vector shape: the preferred one, at most 256 bits, one block: a wider vector would need a scale per
 * lane group. Register tile: 4 weight rows x 2 activation rows, 8 accumulators + a weight vector's 4 byte
 * lanes as floats + a block sum + the scale. Each element: one accumulator, per block d times (the block's
 * products summed lane by lane, byte lane 0 to 3 of each int lane), the lanes summed in order.
 */
final class Q8_0Matrix extends StreamedMatrix {

    /** Weights per block. */
    static final int BLOCK = 32;

    private static final VectorShape SHAPE = VectorShape.forBitSize(
            Math.min(FloatVector.SPECIES_PREFERRED.vectorBitSize(), BLOCK * Byte.SIZE));
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.withShape(SHAPE);
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int L = F.length();
    /** Vectors of 4 L int8 per block. */
    private static final int VECTORS_PER_BLOCK = BLOCK / (4 * L);
    private static final int TILE_ROWS = 2;

    private final int[] q;          // (out, in / 4): four int8 to an int, weight 4j + b in byte b of int j
    private final short[] scale;    // (out, in / 32): binary16 d of each block
    private final int rowInts;
    private final int blocks;

    private Q8_0Matrix(int[] q, short[] scale, int out, int in) {
        super(out, in, TILE_ROWS);
        this.q = q;
        this.scale = scale;
        this.rowInts = in / 4;
        this.blocks = in / BLOCK;
    }

    /** Quantises (out, in) float32 values, in a multiple of 32; every value must be finite. */
    static Q8_0Matrix quantize(FloatBuffer values, int out, int in) {
        if (in % BLOCK != 0) {
            throw new IllegalArgumentException("q8_0 needs rows of a multiple of " + BLOCK + " weights, got " + in);
        }
        int blocks = in / BLOCK;
        int[] q = new int[Math.multiplyExact(out, in / 4)];
        short[] scale = new short[Math.multiplyExact(out, blocks)];
        for (int b = 0; b < out * blocks; b++) {
            int start = b * BLOCK;
            float max = 0;
            for (int i = 0; i < BLOCK; i++) {
                float v = values.get(start + i);
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("q8_0 cannot hold " + v + " (row " + start / in + ", column "
                            + (start % in + i) + ")");
                }
                max = Math.max(max, Math.abs(v));
            }
            short d = scaleFor(max);
            scale[b] = d;
            double dq = Float16.toFloat(d);
            for (int i = 0; i < BLOCK; i++) {
                int level = dq == 0 ? 0 : nearestLevel(values.get(start + i), dq);
                q[(start + i) / 4] |= (level & 0xFF) << (8 * (i % 4));
            }
        }
        return new Q8_0Matrix(q, scale, out, in);
    }

    /**
     * The binary16 scale for a block whose largest |weight| is {@code max}: max / 127 rounded to binary16,
     * one step up where rounding went below (so that no weight needs a level past 127), at least the
     * smallest binary16 above zero unless the block is all zeros.
     */
    static short scaleFor(float max) {
        if (max == 0) {
            return 0;
        }
        short d = (short) Math.max(Float16.fromFloat(max / 127), 1);
        while (127 * (double) Float16.toFloat(d) < max) {
            d++; // bit patterns of positive binary16 values grow with the values
        }
        if (Float.isInfinite(Float16.toFloat(d))) {
            throw new IllegalArgumentException("q8_0 cannot hold weights of magnitude " + max
                    + ": the scale overflows binary16");
        }
        return d;
    }

    /** The level in -127..127 whose multiple of d is nearest to v, ties to even; exact in double. */
    private static int nearestLevel(float v, double d) {
        int level = (int) Math.rint(v / d);
        // v / d was rounded once; the exact distances settle a quotient that fell on the wrong side of .5
        double error = Math.abs(v - level * d);
        int other = level + (v > level * d ? 1 : -1);
        double otherError = Math.abs(v - other * d);
        if (otherError < error || otherError == error && (other & 1) == 0) {
            level = other;
        }
        return level;
    }

    static String species() {
        return F.toString();
    }

    @Override
    public WeightFormat format() {
        return WeightFormat.Q8_0;
    }

    @Override
    public long residentBytes() {
        return (long) q.length * Integer.BYTES + (long) scale.length * Short.BYTES;
    }

    @Override
    public void dequantizeRow(int o, float[] dst, int offset) {
        for (int k = 0; k < in; k++) {
            int level = (byte) (q[o * rowInts + k / 4] >> (8 * (k % 4)));
            dst[offset + k] = level * Float16.toFloat(scale[o * blocks + k / BLOCK]);
        }
    }

    /** Per row: for each 4 L weights (one int vector), byte lane 0 of every int lane, then lane 1, 2, 3. */
    @Override
    float[] dotLayout(float[] x, int rows, Workspace ws) {
        float[] xs = ws.dot(rows * in);
        for (int base = 0; base < rows * in; base += 4 * L) {
            for (int l = 0; l < L; l++) {
                for (int b = 0; b < 4; b++) {
                    xs[base + b * L + l] = x[base + 4 * l + b];
                }
            }
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
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = FloatVector.zero(F), s1 = s0;
            for (int v = b * VECTORS_PER_BLOCK; v < (b + 1) * VECTORS_PER_BLOCK; v++) {
                IntVector iv = IntVector.fromArray(I, q, w0 + v * L);
                FloatVector q0 = lane0(iv), q1 = lane1(iv), q2 = lane2(iv), q3 = lane3(iv);
                s0 = sum(q0, q1, q2, q3, xs, x0 + 4 * L * v, s0);
                s1 = sum(q0, q1, q2, q3, xs, x1 + 4 * L * v, s1);
            }
            FloatVector d = FloatVector.broadcast(F, Float16.toFloat(scale[row(o) * blocks + b]));
            c00 = s0.fma(d, c00);
            c01 = s1.fma(d, c01);
            s0 = FloatVector.zero(F);
            s1 = s0;
            for (int v = b * VECTORS_PER_BLOCK; v < (b + 1) * VECTORS_PER_BLOCK; v++) {
                IntVector iv = IntVector.fromArray(I, q, w1 + v * L);
                FloatVector q0 = lane0(iv), q1 = lane1(iv), q2 = lane2(iv), q3 = lane3(iv);
                s0 = sum(q0, q1, q2, q3, xs, x0 + 4 * L * v, s0);
                s1 = sum(q0, q1, q2, q3, xs, x1 + 4 * L * v, s1);
            }
            d = FloatVector.broadcast(F, Float16.toFloat(scale[row(o + 1) * blocks + b]));
            c10 = s0.fma(d, c10);
            c11 = s1.fma(d, c11);
            s0 = FloatVector.zero(F);
            s1 = s0;
            for (int v = b * VECTORS_PER_BLOCK; v < (b + 1) * VECTORS_PER_BLOCK; v++) {
                IntVector iv = IntVector.fromArray(I, q, w2 + v * L);
                FloatVector q0 = lane0(iv), q1 = lane1(iv), q2 = lane2(iv), q3 = lane3(iv);
                s0 = sum(q0, q1, q2, q3, xs, x0 + 4 * L * v, s0);
                s1 = sum(q0, q1, q2, q3, xs, x1 + 4 * L * v, s1);
            }
            d = FloatVector.broadcast(F, Float16.toFloat(scale[row(o + 2) * blocks + b]));
            c20 = s0.fma(d, c20);
            c21 = s1.fma(d, c21);
            s0 = FloatVector.zero(F);
            s1 = s0;
            for (int v = b * VECTORS_PER_BLOCK; v < (b + 1) * VECTORS_PER_BLOCK; v++) {
                IntVector iv = IntVector.fromArray(I, q, w3 + v * L);
                FloatVector q0 = lane0(iv), q1 = lane1(iv), q2 = lane2(iv), q3 = lane3(iv);
                s0 = sum(q0, q1, q2, q3, xs, x0 + 4 * L * v, s0);
                s1 = sum(q0, q1, q2, q3, xs, x1 + 4 * L * v, s1);
            }
            d = FloatVector.broadcast(F, Float16.toFloat(scale[row(o + 3) * blocks + b]));
            c30 = s0.fma(d, c30);
            c31 = s1.fma(d, c31);
        }
        store(y, bias, r, o, sumLanes(c00));
        store(y, bias, r + 1, o, sumLanes(c01));
        store(y, bias, r, o + 1, sumLanes(c10));
        store(y, bias, r + 1, o + 1, sumLanes(c11));
        store(y, bias, r, o + 2, sumLanes(c20));
        store(y, bias, r + 1, o + 2, sumLanes(c21));
        store(y, bias, r, o + 3, sumLanes(c30));
        store(y, bias, r + 1, o + 3, sumLanes(c31));
    }

    @Override
    void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y) {
        int w0 = row(o) * rowInts;
        int w1 = row(o + 1) * rowInts;
        int w2 = row(o + 2) * rowInts;
        int w3 = row(o + 3) * rowInts;
        int x0 = r * in;
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int b = 0; b < blocks; b++) {
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int v = b * VECTORS_PER_BLOCK; v < (b + 1) * VECTORS_PER_BLOCK; v++) {
                int xv = x0 + 4 * L * v;
                s0 = sum(IntVector.fromArray(I, q, w0 + v * L), xs, xv, s0);
                s1 = sum(IntVector.fromArray(I, q, w1 + v * L), xs, xv, s1);
                s2 = sum(IntVector.fromArray(I, q, w2 + v * L), xs, xv, s2);
                s3 = sum(IntVector.fromArray(I, q, w3 + v * L), xs, xv, s3);
            }
            c0 = s0.fma(FloatVector.broadcast(F, Float16.toFloat(scale[row(o) * blocks + b])), c0);
            c1 = s1.fma(FloatVector.broadcast(F, Float16.toFloat(scale[row(o + 1) * blocks + b])), c1);
            c2 = s2.fma(FloatVector.broadcast(F, Float16.toFloat(scale[row(o + 2) * blocks + b])), c2);
            c3 = s3.fma(FloatVector.broadcast(F, Float16.toFloat(scale[row(o + 3) * blocks + b])), c3);
        }
        store(y, bias, r, o, sumLanes(c0));
        store(y, bias, r, o + 1, sumLanes(c1));
        store(y, bias, r, o + 2, sumLanes(c2));
        store(y, bias, r, o + 3, sumLanes(c3));
    }

    /** s + the products of one int vector's 4 L weights with their activations at xs[x, x + 4 L). */
    private static FloatVector sum(IntVector iv, float[] xs, int x, FloatVector s) {
        return sum(lane0(iv), lane1(iv), lane2(iv), lane3(iv), xs, x, s);
    }

    /** s + q0 * x[lane 0] + q1 * x[lane 1] + q2 * x[lane 2] + q3 * x[lane 3], fused, in that order. */
    private static FloatVector sum(FloatVector q0, FloatVector q1, FloatVector q2, FloatVector q3, float[] xs, int x,
                                   FloatVector s) {
        s = q0.fma(FloatVector.fromArray(F, xs, x), s);
        s = q1.fma(FloatVector.fromArray(F, xs, x + L), s);
        s = q2.fma(FloatVector.fromArray(F, xs, x + 2 * L), s);
        return q3.fma(FloatVector.fromArray(F, xs, x + 3 * L), s);
    }

    private static FloatVector lane0(IntVector v) {
        return v.lanewise(LSHL, 24).lanewise(ASHR, 24).convert(I2F, 0).reinterpretAsFloats();
    }

    private static FloatVector lane1(IntVector v) {
        return v.lanewise(LSHL, 16).lanewise(ASHR, 24).convert(I2F, 0).reinterpretAsFloats();
    }

    private static FloatVector lane2(IntVector v) {
        return v.lanewise(LSHL, 8).lanewise(ASHR, 24).convert(I2F, 0).reinterpretAsFloats();
    }

    private static FloatVector lane3(IntVector v) {
        return v.lanewise(ASHR, 24).convert(I2F, 0).reinterpretAsFloats();
    }
}
