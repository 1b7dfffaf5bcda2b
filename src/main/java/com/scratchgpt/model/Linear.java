package com.scratchgpt.model;

import java.nio.FloatBuffer;

import com.scratchgpt.model.kernel.WeightMatrix;

/**
 * nn.Linear: y = x · W^T + b, with W stored [out, in] as PyTorch stores it, held in the model's weight
 * format.
 *
 * <p>Which product a row goes through depends on its chunk alone, never on the rest of the step, so that a
 * sequence's bits do not depend on its company: the rows of short chunks (every decode position) go
 * through the weight kernel ({@link WeightMatrix}, which gives a row the same bits in any batch); a long
 * chunk (a prompt) goes through the kernel too in bf16 and q8_0, and through sgemm on its own rows in f32,
 * where OpenBLAS packs the weights once for hundreds of rows. Without the Vector API (f32 only) every
 * product goes through BLAS, as one call over the step's rows.
 */
public final class Linear {

    /**
     * Chunks of up to this many tokens run through the weight kernel in f32 too. Below 13 rows OpenBLAS runs
     * matrix-vector products ({@link Blas#MAX_GEMV_ROWS}), which the f32 kernel matches at 2 rows and beats
     * from 4 (`./mvnw -Pbench verify -Dbench.args=--kernels`: 4 rows 64 against 75 ms, 8 rows 98 against
     * 129 ms over GPT-2 small's weights, docs/BENCHMARKS.md).
     */
    static final int MAX_KERNEL_CHUNK = Blas.MAX_GEMV_ROWS;

    private final WeightMatrix weight; // (out, in) in the weight format; null without the Vector API
    private final Tensor blasWeight;   // (out, in) float32 for sgemm; null unless the format is f32
    private final Tensor bias;         // (out) or null
    private final int in;
    private final int out;

    /** A float32 layer: the kernel reads the array in place, sgemm the same array. */
    public Linear(Tensor weight, Tensor bias) {
        this(WeightMatrix.kernelsAvailable() ? WeightMatrix.f32(weight.bytes(), Math.toIntExact(weight.shape()[0]),
                Math.toIntExact(weight.shape()[1])) : null, weight, bias);
    }

    /** A layer whose weight is held in a format of its own (bf16, q8_0): the kernel alone computes it. */
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

    /** The weight as the products read it; null without the Vector API. */
    public WeightMatrix weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    int outFeatures() {
        return out;
    }

    /**
     * x (rows, in) -> y (rows, out) over the step's rows: the short chunks' rows (the first act.shortRows) in
     * one kernel product, then in f32 each long chunk through sgemm on its own.
     */
    void forward(Activations act, Tensor x, Tensor y) {
        if (weight == null) {
            blas(x, y, 0, act.rows);
        } else if (blasWeight == null) {
            weight.multiply(x.buffer(), biasBuffer(), y.buffer(), act.rows);
        } else {
            if (act.shortRows > 0) {
                weight.multiply(x.buffer(), biasBuffer(), y.buffer(), act.shortRows);
            }
            // ascending rows: sgemm's padding rows land on the next chunk's rows, which are computed after
            for (int c = 0; c < act.chunks.size(); c++) {
                int n = act.chunks.get(c).tokens().length;
                if (!Activations.isShort(n)) {
                    blas(x, y, act.firstRow(c), n);
                }
            }
        }
    }

    /**
     * x (rows, in) -> y (rows, out) for rows that each stand alone (one position of each sequence), through the
     * kernel: a row's result does not depend on the others.
     */
    public void forward(Tensor x, Tensor y, int rows) {
        if (weight == null) {
            blas(x, y, 0, rows);
        } else {
            weight.multiply(x.buffer(), biasBuffer(), y.buffer(), rows);
        }
    }

    private FloatBuffer biasBuffer() {
        return bias == null ? null : bias.buffer();
    }

    /**
     * Rows first..first+rows-1 of x (rows, in) -> the same rows of y (rows, out) through BLAS. When both have
     * room, the product runs over {@link Blas#paddedRows} rows (the faster count); the extra rows are scratch.
     */
    private void blas(Tensor x, Tensor y, int first, int rows) {
        int padded = Blas.paddedRows(rows);
        boolean room = (first + (long) padded) * in <= x.length() && (first + (long) padded) * out <= y.length();
        int run = room ? padded : rows;
        float beta = 0f;
        if (bias != null) {
            // start from the bias and let BLAS accumulate onto it
            FloatBuffer dst = y.buffer();
            for (int r = first; r < first + run; r++) {
                dst.put(r * out, bias.buffer(), 0, out);
            }
            beta = 1f;
        }
        Blas.gemm(run, out, in, 1f, x.at((long) first * in), in, blasWeight.at(0), in, true, beta,
                y.at((long) first * out), out);
    }
}
