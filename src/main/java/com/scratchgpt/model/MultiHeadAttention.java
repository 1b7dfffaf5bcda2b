package com.scratchgpt.model;

import java.nio.FloatBuffer;

/**
 * The seeds' causal MultiHeadAttention. W_query, W_key and W_value are fused into one (3 emb, emb)
 * projection, so that one matrix product yields all three.
 */
public final class MultiHeadAttention {

    private final Linear qkv;     // W_query | W_key | W_value: (3 emb, emb)
    private final Linear outProj; // (emb, emb)
    private final int layer;      // the block's index: which of each KV cache's layers is this attention's
    private final int nHeads;
    private final int emb;
    private final int headDim;
    private final float scale;

    public MultiHeadAttention(Linear qkv, Linear outProj, int nHeads, int layer) {
        this.qkv = qkv;
        this.outProj = outProj;
        this.layer = layer;
        this.nHeads = nHeads;
        this.emb = Math.toIntExact(outProj.weight().shape()[0]);
        this.headDim = emb / nHeads;
        // the seeds divide the scores by sqrt(head_dim); BLAS applies the reciprocal as alpha
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * in (rows, emb) -> out (rows, emb), through act.qkv (rows, 3 emb) and act.context (rows, emb). The rows
     * are the chunks' tokens one after another; each chunk attends to its own cache (extended here with
     * its new keys and values) under the causal mask, as each row of the book's batch attends to its own
     * tokens.
     */
    void forward(Activations act, Tensor in, Tensor out) {
        qkv.forward(in, act.qkv, act.rows);
        int row = 0;
        for (SequenceChunk chunk : act.chunks) {
            attend(chunk, row, act);
            row += chunk.tokens().length;
        }
        outProj.forward(act.context, out, act.rows);
    }

    /**
     * One chunk's rows firstRow.. of act.qkv -> the same rows of act.context (n, emb): append its keys and
     * values to the cache, then each head's softmax(q k^T / sqrt(d)) v, through act.scores (heads, n, total).
     */
    private void attend(SequenceChunk chunk, int firstRow, Activations act) {
        KVCache cache = chunk.cache();
        Tensor keys = cache.keys(layer);
        Tensor values = cache.values(layer);
        int n = chunk.tokens().length;
        int start = cache.length();
        int total = start + n;
        for (int i = 0; i < n; i++) {
            int src = (firstRow + i) * 3 * emb;
            int dst = Math.toIntExact(cache.offset(start + i));
            keys.copyFrom(act.qkv, src + emb, dst, emb);
            values.copyFrom(act.qkv, src + 2 * emb, dst, emb);
        }
        // scores (heads, n, total) = q_h (n, hd) · k_h (total, hd)^T / sqrt(hd), one head after another
        long headStride = (long) n * total;
        for (int h = 0; h < nHeads; h++) {
            Blas.gemm(n, total, headDim, scale, act.qkv.at((long) firstRow * 3 * emb + h * headDim), 3 * emb,
                    keys.at(cache.offset(0) + h * headDim), emb, true, 0f, act.scores.at(h * headStride), total);
        }
        // row i sits at position start + i: it sees keys 0..start+i, the rest is masked
        FloatBuffer s = act.scores.buffer();
        ParallelLoop.forRange(nHeads * n, total, (from, to) -> {
            for (int row = from; row < to; row++) {
                int i = row % n;
                causalSoftmax(s, Math.toIntExact((row / n) * headStride + (long) i * total), start + i + 1, total);
            }
        });
        // context_h (n, hd) = weights (n, total) · v_h (total, hd), written beside the other heads
        for (int h = 0; h < nHeads; h++) {
            Blas.gemm(n, headDim, total, 1f, act.scores.at(h * headStride), total,
                    values.at(cache.offset(0) + h * headDim), emb, false, 0f,
                    act.context.at((long) firstRow * emb + h * headDim), emb);
        }
    }

    /** Softmax of one row of scores over its first {@code visible} entries; the masked rest becomes 0. */
    private static void causalSoftmax(FloatBuffer s, int base, int visible, int total) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < visible; j++) {
            max = Math.max(max, s.get(base + j));
        }
        double sum = 0;
        for (int j = 0; j < visible; j++) {
            float e = (float) Math.exp(s.get(base + j) - max);
            s.put(base + j, e);
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int j = 0; j < visible; j++) {
            s.put(base + j, s.get(base + j) * inv);
        }
        for (int j = visible; j < total; j++) {
            s.put(base + j, 0f);
        }
    }
}
