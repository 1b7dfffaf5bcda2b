package com.scratchgpt.model;

import java.nio.FloatBuffer;

import com.scratchgpt.model.kernel.ScaledDotProductAttention;
import com.scratchgpt.model.kernel.WeightMatrix;

/**
 * The seeds' causal MultiHeadAttention. W_query, W_key and W_value are fused into one (3 emb, emb)
 * projection, so that one matrix product yields all three.
 *
 * <p>The rows of short chunks (decoding) attend through {@link ScaledDotProductAttention}, whose sums
 * run in an order no other row changes; a long chunk (a prompt) through BLAS, which the chunk's shape alone
 * configures. Either way a row's result does not depend on the sequences beside it. Without the Vector API
 * every chunk goes through BLAS.
 */
public final class MultiHeadAttention {

    private static final boolean KERNELS = WeightMatrix.kernelsAvailable();

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
        this.emb = outProj.outFeatures();
        this.headDim = emb / nHeads;
        // the seeds divide the scores by sqrt(head_dim); both paths multiply by its reciprocal (BLAS as alpha)
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * in (rows, emb) -> out (rows, emb), through act.qkv (rows, 3 emb) and act.context (rows, emb). The rows
     * are the chunks' tokens one after another; each chunk attends to its own cache (extended here with
     * its new keys and values) under the causal mask, as each row of the book's batch attends to its own
     * tokens.
     */
    void forward(Activations act, Tensor in, Tensor out) {
        qkv.forward(act, in, act.qkv);
        for (int c = 0; c < act.chunks.size(); c++) {
            store(act.chunks.get(c), act.firstRow(c), act);
        }
        boolean kernels = KERNELS && !act.keepsAttention; // an inspection reads the weights from act.scores
        if (kernels) {
            attendShortChunks(act);
        }
        for (int c = 0; c < act.chunks.size(); c++) {
            SequenceChunk chunk = act.chunks.get(c);
            if (!kernels || !Activations.isShort(chunk.tokens().length)) {
                attend(chunk, act.firstRow(c), act);
            }
        }
        outProj.forward(act, act.context, out);
    }

    /** A chunk's keys and values (its rows from firstRow of act.qkv) appended to its cache. */
    private void store(SequenceChunk chunk, int firstRow, Activations act) {
        KVCache cache = chunk.cache();
        int start = cache.length();
        for (int i = 0; i < chunk.tokens().length; i++) {
            int src = (firstRow + i) * 3 * emb;
            int dst = Math.toIntExact(cache.offset(start + i));
            cache.keys(layer).copyFrom(act.qkv, src + emb, dst, emb);
            cache.values(layer).copyFrom(act.qkv, src + 2 * emb, dst, emb);
        }
    }

    /**
     * Rows 0..shortRows-1 of act.qkv -> the same rows of act.context (rows, emb): every head of every row of
     * the short chunks, each on its own, split over the cores when there is enough of it.
     */
    private void attendShortChunks(Activations act) {
        int rows = act.shortRows;
        if (rows == 0) {
            return;
        }
        KVCache[] caches = new KVCache[rows];
        int[] positions = new int[rows];
        int widest = 0;
        for (int c = 0; c < act.chunks.size(); c++) {
            SequenceChunk chunk = act.chunks.get(c);
            if (Activations.isShort(chunk.tokens().length)) {
                for (int i = 0; i < chunk.tokens().length; i++) {
                    caches[act.firstRow(c) + i] = chunk.cache();
                    positions[act.firstRow(c) + i] = chunk.cache().length() + i;
                }
                widest = Math.max(widest, chunk.cache().length() + chunk.tokens().length);
            }
        }
        ParallelLoop.forRange(rows * nHeads, (long) widest * headDim, (from, to) -> {
            for (int task = from; task < to; task++) {
                int row = task / nHeads;
                int h = task % nHeads;
                KVCache cache = caches[row];
                int kvAt = Math.toIntExact(cache.offset(0)) + h * headDim;
                // position p sees positions 0..p, its own included
                ScaledDotProductAttention.attend(act.qkv.bytes(), row * 3 * emb + h * headDim, cache.keys(layer).bytes(),
                        cache.values(layer).bytes(), kvAt, emb, positions[row] + 1, headDim, scale, act.context.bytes(),
                        row * emb + h * headDim);
            }
        });
    }

    /**
     * One chunk's rows firstRow.. of act.qkv -> the same rows of act.context (n, emb), its keys and values
     * already stored: each head's softmax(q k^T / sqrt(d)) v through BLAS and act.scores (heads, n, total).
     */
    private void attend(SequenceChunk chunk, int firstRow, Activations act) {
        KVCache cache = chunk.cache();
        Tensor keys = cache.keys(layer);
        Tensor values = cache.values(layer);
        int n = chunk.tokens().length;
        int start = cache.length();
        int total = start + n;
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
