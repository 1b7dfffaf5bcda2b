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

    /** in (rows, emb) -> out (rows, emb), each of the step's rows on its own. */
    void forward(Activations act, Tensor in, Tensor out) {
        FloatBuffer src = in.buffer();
        FloatBuffer dst = out.buffer();
        ParallelLoop.forRange(act.rows, 8L * dim, (first, end) -> {
            for (int r = first; r < end; r++) {
                normalizeRow(src, dst, r * dim);
            }
        });
    }

    /** One row of dim values at offset: mean, biased variance, then scale and shift into dst. */
    private void normalizeRow(FloatBuffer src, FloatBuffer dst, int offset) {
        FloatBuffer g = scale.buffer();
        FloatBuffer b = shift.buffer();
        double sum = 0;
        for (int i = 0; i < dim; i++) {
            sum += src.get(offset + i);
        }
        float mean = (float) (sum / dim);
        double sq = 0;
        for (int i = 0; i < dim; i++) {
            float d = src.get(offset + i) - mean;
            sq += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(sq / dim + EPS));
        for (int i = 0; i < dim; i++) {
            dst.put(offset + i, g.get(i) * ((src.get(offset + i) - mean) * inv) + b.get(i));
        }
    }
}
