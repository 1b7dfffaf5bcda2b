package com.scratchgpt.model;

import java.nio.FloatBuffer;

import com.scratchgpt.model.kernel.WeightMatrix;

/**
 * nn.Linear: y = x · W^T + b, with W stored [out, in] as PyTorch stores it, held in the model's weight
 * format.
 *
 * <p>Which product a row goes through depends on its chunk alone, never on the rest of the step, so that a
 * sequence's bits do not depend on its company. In bf16 and q8_0 every row goes through the weight kernel
 * ({@link WeightMatrix}, which gives a row the same bits in any batch). In f32 the weights stay on OpenBLAS:
 * the rows of short chunks (every decode position) as matrix-vector products, one row at a time
 * ({@link Blas#rowByRow}); a long chunk (a prompt) through sgemm on its own rows.
 */
public final class Linear {

    /**
     * Chunks of up to this many tokens are short: one row at a time in f32, as OpenBLAS's matrix-vector
     * products beat its sgemm below 13 rows ({@link Blas#MAX_GEMV_ROWS}).
     *
     * <p>Why f32 does not use its weight kernel for decoding: `./mvnw -Pbench verify -Dbench.args=--kernels`
     * measures it at 0.75-0.9 of sgemv for one row (single-stream decoding would be that much slower), and
     * a row's bits must not depend on how many rows a step holds, so no count can switch between them.
     */
    static final int MAX_KERNEL_CHUNK = Blas.MAX_GEMV_ROWS;

    private final WeightMatrix weight; // (out, in) in bf16 or q8_0; null in f32
    private final Tensor blasWeight;   // (out, in) float32 for OpenBLAS; null in the other formats
    private final Tensor bias;         // (out) or null
    private final int in;
    private final int out;

    /** A float32 layer, computed by OpenBLAS. */
    public Linear(Tensor weight, Tensor bias) {
        this(null, weight, bias);
    }

    /** A layer whose weight is held in a format of its own (bf16, q8_0): the kernel computes it. */
    public Linear(WeightMatrix weight, Tensor bias) {
        this(weight, null, bias);
    }

    private Linear(WeightMatrix weight, Tensor blasWeight, Tensor bias) {
        this.weight = weight;
        this.blasWeight = blasWeight;
        this.bias = bias;
        this.out = weight != null ? weight.outFeatures() : Math.toIntExact(blasWeight.shape()[0]);
        this.in = weight != null ? weight.inFeatures() : Math.toIntExact(blasWeight.shape()[1]);
    }

    /** Row o of W as the products read it, into dst[offset, offset + in). */
    public void weightRow(int o, float[] dst, int offset) {
        if (weight != null) {
            weight.dequantizeRow(o, dst, offset);
        } else {
            blasWeight.buffer().get(o * in, dst, offset, in);
        }
    }

    public Tensor bias() {
        return bias;
    }

    int outFeatures() {
        return out;
    }

    /**
     * x (rows, in) -> y (rows, out) over the step's rows: in f32 the short chunks' rows (the first
     * act.shortRows) one by one, then each long chunk through sgemm on its own; otherwise every row in one
     * kernel product.
     */
    void forward(Activations act, Tensor x, Tensor y) {
        if (weight != null) {
            weight.multiply(x.buffer(), biasBuffer(), y.buffer(), act.rows);
            return;
        }
        rowByRow(x, y, act.shortRows);
        // ascending rows: sgemm's padding rows land on the next chunk's rows, which are computed after
        for (int c = 0; c < act.chunks.size(); c++) {
            int n = act.chunks.get(c).tokens().length;
            if (!Activations.isShort(n)) {
                sgemm(x, y, act.firstRow(c), n);
            }
        }
    }

    /**
     * x (rows, in) -> y (rows, out) for rows that each stand alone (one position of each sequence): a row's
     * result does not depend on the others.
     */
    public void forward(Tensor x, Tensor y, int rows) {
        if (weight != null) {
            weight.multiply(x.buffer(), biasBuffer(), y.buffer(), rows);
        } else {
            rowByRow(x, y, rows);
        }
    }

    private FloatBuffer biasBuffer() {
        return bias == null ? null : bias.buffer();
    }

    /** Rows 0..rows-1 of x (rows, in) -> the same rows of y (rows, out), each through matrix-vector products. */
    private void rowByRow(Tensor x, Tensor y, int rows) {
        if (rows == 0) {
            return;
        }
        float beta = startFromBias(y, 0, rows);
        Blas.rowByRow(rows, out, in, 1f, x.at(0), in, blasWeight.at(0), in, beta, y.at(0), out);
    }

    /**
     * Rows first..first+rows-1 of x (rows, in) -> the same rows of y (rows, out) through sgemm. When both have
     * room, the product runs over {@link Blas#paddedRows} rows (the faster count); the extra rows are scratch.
     */
    private void sgemm(Tensor x, Tensor y, int first, int rows) {
        int padded = Blas.paddedRows(rows);
        boolean room = (first + (long) padded) * in <= x.length() && (first + (long) padded) * out <= y.length();
        int run = room ? padded : rows;
        float beta = startFromBias(y, first, run);
        Blas.gemm(run, out, in, 1f, x.at((long) first * in), in, blasWeight.at(0), in, true, beta,
                y.at((long) first * out), out);
    }

    /** Writes the bias into rows first..first+rows-1 of y for BLAS to accumulate onto; the beta that does so. */
    private float startFromBias(Tensor y, int first, int rows) {
        if (bias == null) {
            return 0f;
        }
        FloatBuffer dst = y.buffer();
        for (int r = first; r < first + rows; r++) {
            dst.put(r * out, bias.buffer(), 0, out);
        }
        return 1f;
    }
}
