package com.scratchgpt.model;

import java.nio.FloatBuffer;

/** The seeds' LayerNorm: scale * (x - mean) / sqrt(var + eps) + shift, biased variance, eps 1e-5. */
public final class LayerNorm {

    static final double EPS = 1e-5;

    private final Tensor scale; // (emb)
    private final Tensor shift; // (emb)
    private final int dim;

    public LayerNorm(Tensor scale, Tensor shift) {
        this.scale = scale;
        this.shift = shift;
        this.dim = Math.toIntExact(scale.length());
    }

    /** x (rows, emb) -> out (rows, emb). */
    public void forward(Tensor x, Tensor out, int rows) {
        forwardRows(x, 0, out, 0, rows);
    }

    /** Normalises {@code rows} rows of x starting at row {@code xRow} into out starting at row {@code outRow}. */
    public void forwardRows(Tensor x, int xRow, Tensor out, int outRow, int rows) {
        FloatBuffer in = x.buffer();
        FloatBuffer dst = out.buffer();
        FloatBuffer g = scale.buffer();
        FloatBuffer b = shift.buffer();
        ParallelLoop.forRange(rows, dim, (first, end) -> {
            for (int r = first; r < end; r++) {
                normalizeRow(in, (xRow + r) * dim, dst, (outRow + r) * dim, g, b);
            }
        });
    }

    /** One row of dim values at src: mean, biased variance, then scale and shift into out at o. */
    private void normalizeRow(FloatBuffer in, int src, FloatBuffer dst, int o, FloatBuffer g, FloatBuffer b) {
        double sum = 0;
        for (int i = 0; i < dim; i++) {
            sum += in.get(src + i);
        }
        float mean = (float) (sum / dim);
        double sq = 0;
        for (int i = 0; i < dim; i++) {
            float d = in.get(src + i) - mean;
            sq += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(sq / dim + EPS));
        for (int i = 0; i < dim; i++) {
            dst.put(o + i, g.get(i) * ((in.get(src + i) - mean) * inv) + b.get(i));
        }
    }
}
