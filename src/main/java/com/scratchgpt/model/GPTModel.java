package com.scratchgpt.model;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The seeds' GPTModel: token + position embeddings, n_layers transformer blocks, final LayerNorm,
 * linear output head. Inference only (eval mode: dropout is never applied).
 *
 * <p>Parameters are named as the seeds' {@code state_dict} names them, except that each block's
 * W_query, W_key and W_value are one fused {@code att.qkv} projection (see {@link #parameterShapes}).
 * The output head may share the token embedding's array (weight tying).
 */
public final class GPTModel {

    private final GPTConfig cfg;
    private final Tensor tokEmb;                 // (vocab, emb)
    private final Tensor posEmb;                 // (context, emb)
    private final TransformerBlock[] trfBlocks;
    private final LayerNorm finalNorm;
    private final Linear outHead;                // weight (vocab, emb), bias-free
    private final boolean tiedOutputHead;
    private final Map<String, Tensor> parameters;

    private GPTModel(GPTConfig cfg, Map<String, Tensor> p) {
        this.cfg = cfg;
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(p));
        this.tokEmb = p.get("tok_emb.weight");
        this.posEmb = p.get("pos_emb.weight");
        this.trfBlocks = new TransformerBlock[cfg.nLayers()];
        for (int i = 0; i < cfg.nLayers(); i++) {
            String b = "trf_blocks." + i + ".";
            trfBlocks[i] = new TransformerBlock(
                    new LayerNorm(p.get(b + "norm1.scale"), p.get(b + "norm1.shift")),
                    new MultiHeadAttention(new Linear(p.get(b + "att.qkv.weight"), p.get(b + "att.qkv.bias")),
                            new Linear(p.get(b + "att.out_proj.weight"), p.get(b + "att.out_proj.bias")), cfg.nHeads()),
                    new LayerNorm(p.get(b + "norm2.scale"), p.get(b + "norm2.shift")),
                    new FeedForward(new Linear(p.get(b + "ff.layers.0.weight"), p.get(b + "ff.layers.0.bias")),
                            new Linear(p.get(b + "ff.layers.2.weight"), p.get(b + "ff.layers.2.bias"))),
                    cfg.embDim());
        }
        this.finalNorm = new LayerNorm(p.get("final_norm.scale"), p.get("final_norm.shift"));
        Tensor head = p.get("out_head.weight");
        this.tiedOutputHead = head == null;
        this.outHead = new Linear(tiedOutputHead ? tokEmb : head, null);
    }

    /**
     * Builds the model on these parameters, which must be exactly {@link #parameterShapes} (with
     * {@code out_head.weight} absent when the head is tied to the token embedding).
     */
    public static GPTModel of(GPTConfig cfg, Map<String, Tensor> parameters) {
        boolean tied = !parameters.containsKey("out_head.weight");
        Map<String, long[]> expected = parameterShapes(cfg, tied);
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            Tensor t = parameters.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException("missing parameter " + e.getKey());
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException("parameter " + e.getKey() + " has shape "
                        + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        for (String name : parameters.keySet()) {
            if (!expected.containsKey(name)) {
                throw new IllegalArgumentException("unexpected parameter " + name);
            }
        }
        return new GPTModel(cfg, parameters);
    }

    /** Every parameter's name and shape, in the order the seeds' modules are constructed. */
    public static Map<String, long[]> parameterShapes(GPTConfig cfg, boolean tiedOutputHead) {
        long v = cfg.vocabSize();
        long e = cfg.embDim();
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("tok_emb.weight", new long[] {v, e});
        s.put("pos_emb.weight", new long[] {cfg.contextLength(), e});
        for (int i = 0; i < cfg.nLayers(); i++) {
            String b = "trf_blocks." + i + ".";
            s.put(b + "att.qkv.weight", new long[] {3 * e, e});
            if (cfg.qkvBias()) {
                s.put(b + "att.qkv.bias", new long[] {3 * e});
            }
            s.put(b + "att.out_proj.weight", new long[] {e, e});
            s.put(b + "att.out_proj.bias", new long[] {e});
            s.put(b + "ff.layers.0.weight", new long[] {4 * e, e});
            s.put(b + "ff.layers.0.bias", new long[] {4 * e});
            s.put(b + "ff.layers.2.weight", new long[] {e, 4 * e});
            s.put(b + "ff.layers.2.bias", new long[] {e});
            s.put(b + "norm1.scale", new long[] {e});
            s.put(b + "norm1.shift", new long[] {e});
            s.put(b + "norm2.scale", new long[] {e});
            s.put(b + "norm2.shift", new long[] {e});
        }
        s.put("final_norm.scale", new long[] {e});
        s.put("final_norm.shift", new long[] {e});
        if (!tiedOutputHead) {
            s.put("out_head.weight", new long[] {v, e});
        }
        return s;
    }

    public GPTConfig config() {
        return cfg;
    }

    public boolean tiedOutputHead() {
        return tiedOutputHead;
    }

    /** The parameter arrays by name; a tied head appears once, as tok_emb.weight. */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    /** Parameters held, each array once (a tied head counts once), like the seeds' sum(p.numel()). */
    public long parameterCount() {
        return parameters.values().stream().mapToLong(Tensor::length).sum();
    }

    /** Bytes the parameter arrays occupy (off-heap, float32). */
    public long parameterBytes() {
        return parameterCount() * Float.BYTES;
    }

    /**
     * One step for several sequences at once: each chunk's tokens run through the model, extending its
     * cache, and the logits of each chunk's last position land in {@code act.logits()} row by row.
     */
    public void forward(List<SequenceChunk> chunks, Activations act) {
        if (chunks.size() > act.maxSequences) {
            throw new IllegalArgumentException(chunks.size() + " sequences exceed the activations' " + act.maxSequences);
        }
        int rows = runBlocks(chunks, act);
        // the output head only runs on the last position of each sequence
        int row = 0;
        for (int s = 0; s < chunks.size(); s++) {
            row += chunks.get(s).tokens().length;
            finalNorm.forwardRows(act.x, row - 1, act.last, s, 1);
        }
        outHead.forward(act.last, act.logits, chunks.size());
        assert row == rows;
    }

    /**
     * The seeds' {@code GPTModel.forward(idx)}: idx (batch, tokens) -> logits (batch, tokens, vocab),
     * positions 0..tokens-1, no cache kept.
     */
    public INDArray forward(int[][] idx) {
        int batch = idx.length;
        int t = idx[0].length;
        List<SequenceChunk> chunks = new ArrayList<>(batch);
        for (int[] seq : idx) {
            if (seq.length != t) {
                throw new IllegalArgumentException("all sequences of a batch must have the same length");
            }
            chunks.add(new SequenceChunk(seq, new KVCache(cfg, t)));
        }
        Activations act = new Activations(cfg, batch * t, batch);
        int rows = runBlocks(chunks, act);
        finalNorm.forward(act.x, act.normed, rows);
        Tensor logits = Tensor.zeros(rows, cfg.vocabSize());
        outHead.forward(act.normed, logits, rows);
        return logits.array().reshape(batch, t, cfg.vocabSize());
    }

    /** Embeddings and transformer blocks; leaves the final hidden states in act.x. Returns the row count. */
    private int runBlocks(List<SequenceChunk> chunks, Activations act) {
        int rows = embed(chunks, act.x, act.maxRows);
        for (int l = 0; l < trfBlocks.length; l++) {
            trfBlocks[l].forward(act.x, chunks, l, act, rows);
        }
        for (SequenceChunk chunk : chunks) {
            chunk.cache().advance(chunk.tokens().length);
        }
        return rows;
    }

    /** x[row] = tok_emb[token] + pos_emb[position], each chunk's positions following its cache. */
    private int embed(List<SequenceChunk> chunks, Tensor x, int maxRows) {
        int e = cfg.embDim();
        FloatBuffer out = x.buffer();
        FloatBuffer tok = tokEmb.buffer();
        FloatBuffer pos = posEmb.buffer();
        int row = 0;
        for (SequenceChunk chunk : chunks) {
            int start = chunk.cache().length();
            if (start + chunk.tokens().length > chunk.cache().capacity()) {
                throw new IllegalArgumentException("a chunk of " + chunk.tokens().length + " tokens after "
                        + start + " cached positions exceeds the cache capacity " + chunk.cache().capacity());
            }
            for (int i = 0; i < chunk.tokens().length; i++, row++) {
                if (row >= maxRows) {
                    throw new IllegalArgumentException("more tokens than the activations' " + maxRows + " rows");
                }
                int token = chunk.tokens()[i];
                if (token < 0 || token >= cfg.vocabSize()) {
                    throw new IllegalArgumentException("token id " + token + " is outside the vocabulary 0.." + (cfg.vocabSize() - 1));
                }
                int tb = token * e;
                int pb = (start + i) * e;
                for (int j = 0; j < e; j++) {
                    out.put(row * e + j, tok.get(tb + j) + pos.get(pb + j));
                }
            }
        }
        return row;
    }
}
