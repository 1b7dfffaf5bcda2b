package com.scratchgpt.model.kernel;

import java.nio.FloatBuffer;
/**
 * What the three formats share: the order in which a product walks the weights, the threads, the
 * activations' scratch memory and the output. Each format supplies its register tiles.
 *
 * <p>The walk, as ggml's {@code mul_mat} and llamafile's tinyBLAS do it: the weight rows are cut into
 * chunks of {@link #CHUNK_OUT} that the threads take one at a time ({@link KernelPool}); a thread streams
 * its chunk from memory once and, while those rows sit in cache, passes every activation row over them,
 * a few weight rows by a few activation rows per register tile. There is no
 * packing copy. A tile at the matrix's last rows repeats the last weight row rather than having its own
 * code, and a tile's last activation rows run as one-row tiles: an element is computed the same way in
 * every tile shape, which is what makes the results independent of the row count.
 */
abstract sealed class StreamedMatrix implements WeightMatrix permits F32Matrix, BF16Matrix, Q8_0Matrix {

    /** Weight rows a thread takes at a time: GPT-2's 768-row matrices make 48 chunks for 2 threads. */
    static final int CHUNK_OUT = 16;

    /** Lanes of the widest float vector there is (512 bits): room for any accumulator's lanes. */
    static final int MAX_LANES = 16;

    /**
     * Converted activation rows one pass over a chunk covers, in bytes: they stay in the core's L2 cache
     * (512 KB on Zen 3) beside the chunk's weights. Only prompts have more.
     */
    static final int ACTIVATION_BLOCK_BYTES = 256 * 1024;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    final int out;
    final int in;
    private final int tileOut;
    private final int tileRows;
    private final int rowTileOut;
    private final int activationBlock;

    /**
     * A matrix (out, in) whose register tiles cover {@code tileOut} weight rows by {@code tileRows}
     * activation rows, and whose one-row tiles {@code rowTileOut} weight rows (both divisors of
     * {@link #CHUNK_OUT}).
     */
    StreamedMatrix(int out, int in, int tileOut, int tileRows, int rowTileOut) {
        if (out <= 0 || in <= 0) {
            throw new IllegalArgumentException("a weight matrix needs positive sizes, got (" + out + ", " + in + ")");
        }
        this.out = out;
        this.in = in;
        this.tileOut = tileOut;
        this.tileRows = tileRows;
        this.rowTileOut = rowTileOut;
        this.activationBlock = Math.max(tileRows, ACTIVATION_BLOCK_BYTES / (in * Float.BYTES) / tileRows * tileRows);
    }

    @Override
    public final int outFeatures() {
        return out;
    }

    @Override
    public final int inFeatures() {
        return in;
    }

    @Override
    public final void multiply(FloatBuffer x, FloatBuffer bias, FloatBuffer y, int rows) {
        multiply(x, bias, y, rows, KernelPool.shared());
    }

    /** {@link #multiply} on these threads (the results do not depend on them). */
    final void multiply(FloatBuffer x, FloatBuffer bias, FloatBuffer y, int rows, KernelPool pool) {
        if (rows <= 0) {
            throw new IllegalArgumentException("rows must be positive, got " + rows);
        }
        long xLength = (long) rows * in;
        long yLength = (long) rows * out;
        if (xLength > x.capacity() || yLength > y.capacity() || bias != null && bias.capacity() < out) {
            throw new IllegalArgumentException(rows + " rows of a (" + out + ", " + in + ") product need x of " + xLength
                    + ", y of " + yLength + (bias == null ? "" : " and bias of " + out) + " floats, got " + x.capacity()
                    + ", " + y.capacity() + (bias == null ? "" : " and " + bias.capacity()));
        }
        Workspace ws = WORKSPACE.get();
        float[] raw = ws.raw((int) xLength);
        x.get(0, raw, 0, (int) xLength);
        float[] xs = dotLayout(raw, rows, ws);
        pool.run((out + CHUNK_OUT - 1) / CHUNK_OUT, chunk -> {
            int o0 = chunk * CHUNK_OUT;
            int o1 = Math.min(out, o0 + CHUNK_OUT);
            Workspace own = WORKSPACE.get();
            stage(o0, o1, rows, own);
            for (int r0 = 0; r0 < rows; r0 += activationBlock) {
                int r1 = Math.min(rows, r0 + activationBlock);
                int full = r0 + (r1 - r0) / tileRows * tileRows;
                for (int o = o0; o < o1; o += tileOut) {
                    for (int r = r0; r < full; r += tileRows) {
                        tile(xs, o, r, bias, y, own);
                    }
                }
                for (int r = full; r < r1; r++) {
                    for (int o = o0; o < o1; o += rowTileOut) {
                        tile1(xs, o, r, bias, y, own);
                    }
                }
            }
        });
    }

    /**
     * The activations (rows, in) rearranged as this format's tiles read them, converted once per product
     * rather than once per weight row (ggml converts them to the weights' dot type the same way).
     */
    abstract float[] dotLayout(float[] x, int rows, Workspace ws);

    /**
     * Before a thread's tiles over weight rows o0..o1-1 for {@code rows} activation rows: a format may copy
     * them where its tiles read them faster ({@code ws.weights}, {@code ws.chunkStart}). Nothing by default.
     */
    void stage(int o0, int o1, int rows, Workspace ws) {
    }

    /**
     * y for weight rows o..o+tileOut-1 and activation rows r..r+tileRows-1; {@code ws} is the calling
     * thread's: {@code ws.lanes} takes an accumulator's lanes ({@link #sumLanes}).
     *
     * <p>Tiles are written out in full, with no helper method taking or returning a vector: Java 17's C2
     * stops inlining ordinary methods into a method past 18,000 IR nodes (NodeCountInliningCutoff, not
     * settable in product JVMs), which a tile's forced-inline Vector API calls reach quickly; a vector
     * crossing a call that was not inlined is then allocated on the heap, and the tile runs 4-7x slower.
     */
    abstract void tile(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws);

    /** y for weight rows o..o+rowTileOut-1 and activation row r, each element computed as {@link #tile} does. */
    abstract void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y, Workspace ws);

    /** Writes y[r, o] = dot + bias[o], for rows that exist. */
    final void store(FloatBuffer y, FloatBuffer bias, int r, int o, float dot) {
        if (o < out) {
            y.put(r * out + o, bias == null ? dot : dot + bias.get(o));
        }
    }

    /**
     * The sum of an accumulator's first n lanes, stored in {@code lanes}, lane 0 first. Not
     * {@code reduceLanes(ADD)}: its order is unspecified for floats and may differ between the JIT's code
     * and the interpreter's.
     */
    static float sumLanes(float[] lanes, int n) {
        float s = lanes[0];
        for (int i = 1; i < n; i++) {
            s += lanes[i];
        }
        return s;
    }

    static String description() {
        return "f32/bf16 " + F32Matrix.species() + ", q8_0 " + Q8_0Matrix.species() + ", "
                + KernelPool.shared().threads() + " threads";
    }

    /**
     * Per-thread scratch memory, grown as needed and reused: the caller's activations ({@code raw},
     * {@code dot}, read by every thread of the product), and each thread's own accumulator lanes and
     * staged weights.
     */
    static final class Workspace {

        final float[] lanes = new float[MAX_LANES];
        float[] weights = new float[0];
        int chunkStart;
        private float[] raw = new float[0];
        private float[] dot = new float[0];

        float[] raw(int length) {
            if (raw.length < length) {
                raw = new float[length];
            }
            return raw;
        }

        float[] dot(int length) {
            if (dot.length < length) {
                dot = new float[length];
            }
            return dot;
        }
    }
}
