package com.scratchgpt.model;

import java.nio.FloatBuffer;

/** nn.Linear: y = x · W^T + b, with W stored [out, in] as PyTorch stores it. */
public final class Linear {

    private final Tensor weight; // (out, in)
    private final Tensor bias;   // (out) or null
    private final int in;
    private final int out;

    public Linear(Tensor weight, Tensor bias) {
        long[] shape = weight.shape();
        this.weight = weight;
        this.bias = bias;
        this.out = Math.toIntExact(shape[0]);
        this.in = Math.toIntExact(shape[1]);
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    /**
     * x is (rows, in) at offset 0, y is (rows, out): y = x · W^T + b. When both have room, the product
     * runs over {@link Blas#paddedRows} rows (the faster count); the extra rows are scratch.
     */
    public void forward(Tensor x, Tensor y, int rows) {
        int padded = Blas.paddedRows(rows);
        int run = padded * (long) in <= x.length() && padded * (long) out <= y.length() ? padded : rows;
        float beta = 0f;
        if (bias != null) {
            // start from the bias and let BLAS accumulate onto it
            FloatBuffer dst = y.buffer();
            for (int r = 0; r < run; r++) {
                dst.put(r * out, bias.buffer(), 0, out);
            }
            beta = 1f;
        }
        Blas.gemm(run, out, in, 1f, x.at(0), in, weight.at(0), in, true, beta, y.at(0), out);
    }
}
