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
 * GGML's Q8_0: each row cut into blocks of 32 weights, a block held as 32 int8 levels q and one binary16
 * scale d, weight = q * d (34 bytes per 32 weights, 1.0625 a weight). Built from float32 by choosing d so
 * that the largest |weight| of the block maps into -127..127 and rounding each weight to its nearest
 * level: every weight comes back within d / 2. A row whose length is not a multiple of 32 (GPT-2's widths
 * all are; small test models' are not) ends in a block padded with zero weights, held and read as any other,
 * against activations padded with zeros: the padding adds exact zeros to every sum.
 *
 * <p>Why binary16 scales, as GGML: 5.6 % fewer bytes to stream than float32 scales (1.0625 against 1.125 a
 * weight), GGUF's Q8_0 blocks are this layout, and a scale is read once per 32 weights and converted
 * through a 64 K table ({@link Float16}).
 *
 * <p>The product keeps the activations in float32 and converts the weights: int8 lanes come out of int
 * vectors by shifts and {@code I2F} ({@code convertShape} from bytes is far slower on Java 17), each
 * converted vector is multiplied by its block's d (exact: an int8 level times a binary16 scale needs 19 of
 * float32's 24 significand bits, so this is the weight itself), and the activations are regrouped once per
 * product to match (byte lane 0 to 3 of each int lane). Single rows convert the weights in the tile; full
 * tiles read the weights a thread converted once for its chunk ({@link #stage}): the same values summed in
 * the same order, so the same bits. Quantising the activations to int8 too, as ggml's
 * {@code vec_dot_q8_0_q8_0}, pays off with int8 dot-product instructions, which Java 17's Vector API cannot
 * emit; with int multiplies it was no faster here and adds the activations' rounding error (the benchmark
 * prints both).
 *
 * <p>Vector shape: the preferred one, at most 256 bits, the size of a block, so that a vector never spans
 * two scales. Register tiles: 2 weight rows x 3 activation rows over the staged weights (6 accumulators, as
 * bf16's), and for single rows 4 weight rows x 1.
 *
 * <p>Layout: as bf16's, the rows in groups of four interleaved a vector at a time (L ints of row 0, of row
 * 1, 2, 3, then the next L ints of each), their scales likewise a block at a time, and the last group
 * filled up with rows of zeros: a one-row tile reads two sequential streams instead of eight.
 */
final class Q8_0Matrix extends StreamedMatrix {

    /** Weights per block. */
    static final int BLOCK = 32;

    private static final VectorShape SHAPE = VectorShape.forBitSize(
            Math.min(FloatVector.SPECIES_PREFERRED.vectorBitSize(), BLOCK * Byte.SIZE));
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.withShape(SHAPE);
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int L = F.length();
    private static final int TILE_OUT = 2;
    private static final int ROW_TILE_OUT = 4;
    private static final int TILE_ROWS = 3;
    /** Rows interleaved together: the one-row tile's. */
    private static final int GROUP = ROW_TILE_OUT;
    /** binary16 to float32, by bits: a scale per block and weight row, read in the products' inner loop. */
    private static final float[] HALF = Float16.TO_FLOAT;

    final int[] q;                  // four int8 to an int, weight 4j + b of a row in byte b of its int j ({@link #at})
    final short[] scale;            // binary16 d of each block ({@link #scaleAt})
    private final int width;        // in rounded up to a whole block: the row length held and read
    private final int rowInts;
    private final int blocks;

    private Q8_0Matrix(int[] q, short[] scale, int out, int in) {
        super(out, in, TILE_OUT, TILE_ROWS, ROW_TILE_OUT);
        this.q = q;
        this.scale = scale;
        this.width = paddedWidth(in);
        this.rowInts = width / 4;
        this.blocks = width / BLOCK;
    }

    private static int paddedWidth(int in) {
        return Math.addExact(in, BLOCK - 1) / BLOCK * BLOCK;
    }

    /** Where int j of row o lies in {@code q} (the class comment's layout). */
    static int at(int o, int j, int rowInts) {
        return (o - o % GROUP) * rowInts + GROUP * (j - j % L) + o % GROUP * L + j % L;
    }

    /** Where block b of row o has its scale in {@code scale}. */
    static int scaleAt(int o, int b, int blocks) {
        return (o - o % GROUP) * blocks + GROUP * b + o % GROUP;
    }

    int at(int o, int j) {
        return at(o, j, rowInts);
    }

    int scaleAt(int o, int b) {
        return scaleAt(o, b, blocks);
    }

    /** Quantises (out, in) float32 values; every value must be finite. */
    static Q8_0Matrix quantize(FloatBuffer values, int out, int in) {
        int width = paddedWidth(in);
        int blocks = width / BLOCK;
        int rows = Math.addExact(out, GROUP - 1) / GROUP * GROUP;
        int[] q = new int[Math.multiplyExact(rows, width / 4)];
        short[] scale = new short[Math.multiplyExact(rows, blocks)];
        for (int o = 0; o < out; o++) {
            for (int b = 0; b < blocks; b++) {
                int start = o * in + b * BLOCK;
                int n = Math.min(BLOCK, in - b * BLOCK);
                float max = 0;
                for (int i = 0; i < n; i++) {
                    float v = values.get(start + i);
                    if (!Float.isFinite(v)) {
                        throw new IllegalArgumentException("q8_0 cannot hold " + v + " (row " + o + ", column "
                                + (b * BLOCK + i) + ")");
                    }
                    max = Math.max(max, Math.abs(v));
                }
                short d = scaleFor(max);
                scale[scaleAt(o, b, blocks)] = d;
                double dq = Float16.toFloat(d);
                for (int i = 0; i < n; i++) {
                    int level = dq == 0 ? 0 : nearestLevel(values.get(start + i), dq);
                    q[at(o, (b * BLOCK + i) / 4, width / 4)] |= (level & 0xFF) << (8 * (i % 4));
                }
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
            int level = (byte) (q[at(o, k / 4)] >> (8 * (k % 4)));
            dst[offset + k] = level * Float16.toFloat(scale[scaleAt(o, k / BLOCK)]);
        }
    }

    /**
     * Per row, {@code width} long: for each 4 L weights (one int vector), byte lane 0 of every int lane, then
     * lane 1, 2, 3; zeros past {@code in}.
     */
    @Override
    float[] dotLayout(float[] x, int rows, Workspace ws) {
        float[] xs = ws.dot(rows * width);
        for (int r = 0; r < rows; r++) {
            int from = r * in;
            int to = r * width;
            for (int base = 0; base < width; base += 4 * L) {
                for (int l = 0; l < L; l++) {
                    for (int b = 0; b < 4; b++) {
                        int k = base + 4 * l + b;
                        xs[to + base + b * L + l] = k < in ? x[from + k] : 0f;
                    }
                }
            }
        }
        return xs;
    }

    /**
     * For full tiles: weight rows o0..o1-1 as floats (q times its block's d), in the order the tiles read
     * them, in the thread's scratch: converted once per product instead of once per activation row. The
     * one-row tiles convert the same values the same way on the fly, so both give the same bits.
     */
    @Override
    void stage(int o0, int o1, int rows, Workspace ws) {
        if (rows < TILE_ROWS) {
            return;
        }
        int end = Math.min(o1 + GROUP - 1, o0 + CHUNK_OUT) / GROUP * GROUP; // whole groups, zero rows included
        if (ws.weights.length < (end - o0) * width) {
            ws.weights = new float[CHUNK_OUT * width];
        }
        float[] staged = ws.weights;
        // group by group, in the order the levels lie: one sequential stream
        for (int group = o0; group < end; group += GROUP) {
            int levels = at(group, 0);
            int scales = scaleAt(group, 0);
            for (int k = 0; k < width; k += 4 * L) {
                for (int row = 0; row < GROUP; row++) {
                    IntVector pairs = IntVector.fromArray(I, q, levels + GROUP * (k >> 2) + row * L);
                    FloatVector d = FloatVector.broadcast(F, HALF[scale[scales + GROUP * (k / BLOCK) + row] & 0xFFFF]);
                    int at = (group + row - o0) * width + k;
                    ((FloatVector) pairs.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).intoArray(staged, at);
                    ((FloatVector) pairs.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).intoArray(staged, at + L);
                    ((FloatVector) pairs.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).intoArray(staged, at + 2 * L);
                    ((FloatVector) pairs.lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).intoArray(staged, at + 3 * L);
                }
            }
        }
        ws.chunkStart = o0;
    }

    @Override
    void tile(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws) {
        float[] staged = ws.weights;
        int row0 = Math.min(o, out - 1);
        int w0 = (row0 - ws.chunkStart) * width;
        int w1 = (Math.min(o + 1, out - 1) - ws.chunkStart) * width;
        int x0 = r * width;
        int x1 = x0 + width;
        int x2 = x1 + width;
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
        // each activation vector loaded once for both weight rows, in the order tile1 sums
        for (int k = 0; k < width; k += L) {
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
        store(y, bias, r, o, sumLanes(ws.lanes, L));
        c01.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o, sumLanes(ws.lanes, L));
        c02.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o, sumLanes(ws.lanes, L));
        c10.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, sumLanes(ws.lanes, L));
        c11.intoArray(ws.lanes, 0);
        store(y, bias, r + 1, o + 1, sumLanes(ws.lanes, L));
        c12.intoArray(ws.lanes, 0);
        store(y, bias, r + 2, o + 1, sumLanes(ws.lanes, L));
    }

    @Override
    void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws) {
        int group = at(o, 0);  // rows o..o+3 are one group (o is a multiple of 4)
        int groupScales = scaleAt(o, 0);
        int x0 = r * width;
        FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
        for (int k = 0; k < width; k += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, xs, x0 + k);
            FloatVector a1 = FloatVector.fromArray(F, xs, x0 + k + L);
            FloatVector a2 = FloatVector.fromArray(F, xs, x0 + k + 2 * L);
            FloatVector a3 = FloatVector.fromArray(F, xs, x0 + k + 3 * L);
            int b = k / BLOCK;
            IntVector pairs = IntVector.fromArray(I, q, group + GROUP * (k >> 2));
            FloatVector d = FloatVector.broadcast(F, HALF[scale[groupScales + GROUP * b + 0] & 0xFFFF]);
            c0 = ((FloatVector) pairs.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a0, c0);
            c0 = ((FloatVector) pairs.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a1, c0);
            c0 = ((FloatVector) pairs.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a2, c0);
            c0 = ((FloatVector) pairs.lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a3, c0);
            pairs = IntVector.fromArray(I, q, group + GROUP * (k >> 2) + L);
            d = FloatVector.broadcast(F, HALF[scale[groupScales + GROUP * b + 1] & 0xFFFF]);
            c1 = ((FloatVector) pairs.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a0, c1);
            c1 = ((FloatVector) pairs.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a1, c1);
            c1 = ((FloatVector) pairs.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a2, c1);
            c1 = ((FloatVector) pairs.lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a3, c1);
            pairs = IntVector.fromArray(I, q, group + GROUP * (k >> 2) + 2 * L);
            d = FloatVector.broadcast(F, HALF[scale[groupScales + GROUP * b + 2] & 0xFFFF]);
            c2 = ((FloatVector) pairs.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a0, c2);
            c2 = ((FloatVector) pairs.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a1, c2);
            c2 = ((FloatVector) pairs.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a2, c2);
            c2 = ((FloatVector) pairs.lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a3, c2);
            pairs = IntVector.fromArray(I, q, group + GROUP * (k >> 2) + 3 * L);
            d = FloatVector.broadcast(F, HALF[scale[groupScales + GROUP * b + 3] & 0xFFFF]);
            c3 = ((FloatVector) pairs.lanewise(LSHL, 24).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a0, c3);
            c3 = ((FloatVector) pairs.lanewise(LSHL, 16).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a1, c3);
            c3 = ((FloatVector) pairs.lanewise(LSHL, 8).lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a2, c3);
            c3 = ((FloatVector) pairs.lanewise(ASHR, 24).convertShape(I2F, F, 0)).mul(d).fma(a3, c3);
        }
        c0.intoArray(ws.lanes, 0);
        store(y, bias, r, o, sumLanes(ws.lanes, L));
        c1.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 1, sumLanes(ws.lanes, L));
        c2.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 2, sumLanes(ws.lanes, L));
        c3.intoArray(ws.lanes, 0);
        store(y, bias, r, o + 3, sumLanes(ws.lanes, L));
    }
}
