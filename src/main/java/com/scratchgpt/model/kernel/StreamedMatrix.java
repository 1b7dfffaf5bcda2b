package com.scratchgpt.model.kernel;

import java.nio.FloatBuffer;

import jdk.incubator.vector.FloatVector;

/**
 * What the three formats share: the order in which a product walks the weights, the threads, the
 * activations' scratch memory and the output. Each format supplies its register tiles.
 *
 * <p>The walk, as ggml's {@code mul_mat} and llamafile's tinyBLAS do it: the weight rows are cut into
 * chunks of {@link #CHUNK_OUT} that the threads take one at a time ({@link KernelPool}); a thread streams
 * its chunk from memory once and, while those rows sit in cache, passes every activation row over them,
 * {@link #TILE_OUT} weight rows by a few activation rows per register tile. There is no
 * packing copy. A tile at the matrix's last rows repeats the last weight row rather than having its own
 * code, and a tile's last activation rows run as one-row tiles: an element is computed the same way in
 * every tile shape, which is what makes the results independent of the row count.
 */
abstract sealed class StreamedMatrix implements WeightMatrix permits F32Matrix, BF16Matrix, Q8_0Matrix {

    /** Weight rows per register tile. */
    static final int TILE_OUT = 4;

    /** Weight rows a thread takes at a time: GPT-2's 768-row matrices make 48 chunks for 2 threads. */
    static final int CHUNK_OUT = 16;

    /**
     * Converted activation rows one pass over a chunk covers, in bytes: they stay in the core's L2 cache
     * (512 KB on Zen 3) beside the chunk's weights. Only prompts have more.
     */
    static final int ACTIVATION_BLOCK_BYTES = 256 * 1024;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    final int out;
    final int in;
    private final int tileRows;
    private final int activationBlock;

    /** A matrix (out, in) whose full register tiles cover {@code tileRows} activation rows. */
    StreamedMatrix(int out, int in, int tileRows) {
        if (out <= 0 || in <= 0) {
            throw new IllegalArgumentException("a weight matrix needs positive sizes, got (" + out + ", " + in + ")");
        }
        this.out = out;
        this.in = in;
        this.tileRows = tileRows;
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
            for (int r0 = 0; r0 < rows; r0 += activationBlock) {
                int r1 = Math.min(rows, r0 + activationBlock);
                for (int o = o0; o < o1; o += TILE_OUT) {
                    int r = r0;
                    for (; r + tileRows <= r1; r += tileRows) {
                        tile(xs, o, r, bias, y);
                    }
                    for (; r < r1; r++) {
                        tile1(xs, o, r, bias, y);
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

    /** y for weight rows o..o+TILE_OUT-1 and activation rows r..r+tileRows-1. */
    abstract void tile(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y);

    /** y for weight rows o..o+TILE_OUT-1 and activation row r, each element computed as {@link #tile} does. */
    abstract void tile1(float[] xs, int o, int r, FloatBuffer bias, FloatBuffer y);

    /** The weight row a tile reads for row o: past the matrix's end, the last row again (its result is dropped). */
    final int row(int o) {
        return Math.min(o, out - 1);
    }

    /** Writes y[r, o] = dot + bias[o], for rows that exist. */
    final void store(FloatBuffer y, FloatBuffer bias, int r, int o, float dot) {
        if (o < out) {
            y.put(r * out + o, bias == null ? dot : dot + bias.get(o));
        }
    }

    /**
     * The sum of a vector's lanes, lane 0 first. {@code reduceLanes(ADD)} is not used because its order is
     * unspecified for floats and may differ between the JIT's code and the interpreter's.
     */
    static float sumLanes(FloatVector v) {
        float s = v.lane(0);
        for (int i = 1; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    static String description() {
        return "f32/bf16 " + F32Matrix.species() + ", q8_0 " + Q8_0Matrix.species() + ", "
                + KernelPool.shared().threads() + " threads";
    }

    /** Per-thread scratch memory for a product's activations, grown as needed and reused. */
    static final class Workspace {

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
