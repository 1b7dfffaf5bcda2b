package com.scratchgpt.model;

import static com.scratchgpt.model.ParameterTable.ATT_OUT_PROJ;
import static com.scratchgpt.model.ParameterTable.ATT_QKV;
import static com.scratchgpt.model.ParameterTable.FF_FC;
import static com.scratchgpt.model.ParameterTable.FF_PROJ;
import static com.scratchgpt.model.ParameterTable.FINAL_NORM;
import static com.scratchgpt.model.ParameterTable.NORM1;
import static com.scratchgpt.model.ParameterTable.NORM2;
import static com.scratchgpt.model.ParameterTable.OUT_HEAD;
import static com.scratchgpt.model.ParameterTable.POS_EMB;
import static com.scratchgpt.model.ParameterTable.TOK_EMB;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.nd4j.linalg.api.ndarray.INDArray;

import com.scratchgpt.model.ParameterTable.Role;

/**
 * The seeds' GPTModel: token + position embeddings, n_layers transformer blocks, final LayerNorm,
 * linear output head. Inference only (eval mode: dropout is never applied).
 *
 * <p>Parameters are named and shaped as the {@link ParameterTable} lists them (the seeds' state_dict
 * names, with each block's W_query, W_key and W_value fused into one {@code att.qkv}). The output head
 * may share the token embedding's array (weight tying).
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

    private GPTModel(GPTConfig cfg, Map<String, Tensor> p, boolean tiedOutputHead) {
        this.cfg = cfg;
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(p));
        this.tiedOutputHead = tiedOutputHead;
        this.tokEmb = p.get(TOK_EMB.name(-1, Role.WEIGHT));
        this.posEmb = p.get(POS_EMB.name(-1, Role.WEIGHT));
        this.trfBlocks = new TransformerBlock[cfg.nLayers()];
        for (int i = 0; i < cfg.nLayers(); i++) {
            trfBlocks[i] = new TransformerBlock(
                    layerNorm(p, NORM1, i),
                    new MultiHeadAttention(linear(p, ATT_QKV, i), linear(p, ATT_OUT_PROJ, i), cfg.nHeads(), i),
                    layerNorm(p, NORM2, i),
                    new FeedForward(linear(p, FF_FC, i), linear(p, FF_PROJ, i)));
        }
        this.finalNorm = layerNorm(p, FINAL_NORM, -1);
        this.outHead = tiedOutputHead ? new Linear(tokEmb, null) : linear(p, OUT_HEAD, -1);
    }

    private static Linear linear(Map<String, Tensor> p, ParameterTable row, int layer) {
        return new Linear(p.get(row.name(layer, Role.WEIGHT)), p.get(row.name(layer, Role.BIAS)));
    }

    private static LayerNorm layerNorm(Map<String, Tensor> p, ParameterTable row, int layer) {
        return new LayerNorm(p.get(row.name(layer, Role.SCALE)), p.get(row.name(layer, Role.SHIFT)));
    }

    /**
     * Builds the model on these parameters, which must be exactly {@link ParameterTable#parameters} (with
     * {@code out_head.weight} absent when the head is tied to the token embedding).
     */
    public static GPTModel of(GPTConfig cfg, Map<String, Tensor> parameters) {
        boolean tied = !parameters.containsKey(OUT_HEAD.name(-1, Role.WEIGHT));
        Set<String> expected = new HashSet<>();
        for (ParameterTable.Parameter e : ParameterTable.parameters(cfg, tied)) {
            Tensor t = parameters.get(e.name());
            if (t == null) {
                throw new IllegalArgumentException("missing parameter " + e.name());
            }
            if (!Arrays.equals(t.shape(), e.shape())) {
                throw new IllegalArgumentException("parameter " + e.name() + " has shape "
                        + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(e.shape()));
            }
            expected.add(e.name());
        }
        for (String name : parameters.keySet()) {
            if (!expected.contains(name)) {
                throw new IllegalArgumentException("unexpected parameter " + name);
            }
        }
        return new GPTModel(cfg, parameters, tied);
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
     * cache, and the logits of each chunk's last position land in {@code act.logits()}: (sequences, vocab).
     */
    public void forward(List<SequenceChunk> chunks, Activations act) {
        hiddenStates(chunks, act);
        // logits = out_head(x), at each sequence's last position only: the one generation reads
        act.gatherLastPositions(act.normed, act.last);       // (sequences, emb)
        outHead.forward(act.last, act.logits, chunks.size()); // (sequences, vocab)
    }

    /**
     * out_head over rows [from, from + count) of the last {@link #forward(List, Activations)} step: the logits each of
     * those positions gives for the token after it, (count, vocab) into {@code logits}, a {@link #logitLensBuffer} for
     * at least count tokens. forward applies the head at each chunk's last position only, which is all generation
     * needs; scoring a prompt needs every position's, at a (vocab, emb) product a row, paid only when asked for.
     */
    public void positionLogits(Activations act, int from, int count, Tensor logits) {
        if (from < 0 || count < 1 || from + count > act.rows) {
            throw new IllegalArgumentException("rows " + from + ".." + (from + count - 1) + " are not rows of the last step's "
                    + act.rows);
        }
        if ((long) Blas.paddedRows(count) * cfg.vocabSize() > logits.length()) {
            throw new IllegalArgumentException("the logits buffer holds fewer than " + count + " rows of logits");
        }
        int e = cfg.embDim();
        // out_head reads its rows from the start of a buffer; act.delta is free once the step is done
        act.delta.copyFrom(act.normed, from * e, 0, count * e); // x = final_norm(x) at those rows: (count, emb)
        outHead.forward(act.delta, logits, count);                // logits = out_head(x): (count, vocab)
    }

    /**
     * The seeds' {@code GPTModel.forward(in_idx)}: in_idx (batch, tokens) -> logits (batch, tokens, vocab),
     * positions 0..tokens-1, no cache kept. Each batch row is one chunk with a cache of its own.
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
        hiddenStates(chunks, act);
        Tensor logits = Tensor.zeros(act.rows, cfg.vocabSize());
        outHead.forward(act.normed, logits, act.rows); // logits = out_head(x): (batch * tokens, vocab)
        return logits.array().reshape(batch, t, cfg.vocabSize());
    }

    /**
     * The seeds' forward up to the output head, over the step's rows (each chunk's new tokens, back to
     * back): leaves final_norm(x) in act.normed (rows, emb) and each chunk's cache extended by its tokens.
     * Dropout (drop_emb) is an identity in eval mode.
     */
    private void hiddenStates(List<SequenceChunk> chunks, Activations act) {
        act.start(chunks);
        embed(act);                                // x = tok_emb(in_idx) + pos_emb(positions): (rows, emb)
        for (TransformerBlock block : trfBlocks) {
            block.forward(act);                    // x = trf_blocks(x): (rows, emb)
        }
        finalNorm.forward(act, act.x, act.normed); // x = final_norm(x): (rows, emb)
        for (SequenceChunk chunk : chunks) {
            chunk.cache().advance(chunk.tokens().length);
        }
    }

    /**
     * The seeds' forward for one sequence, tokens (T) at positions 0..T-1, showing the probe what each block
     * computed: its attention weights and, through final_norm and out_head, the logits its residual stream
     * would give (the logit lens). The same layers as {@link #forward(List, Activations)}, which stays free of
     * any probe. The cache must be empty and hold T positions, {@code act} T rows; {@code lens} is a
     * {@link #logitLensBuffer} for at least T tokens.
     */
    public void inspect(int[] tokens, KVCache cache, Activations act, Tensor lens, InspectionProbe probe) {
        if (cache.length() != 0) {
            throw new IllegalArgumentException("an inspection starts from an empty cache");
        }
        int t = tokens.length;
        int vocab = cfg.vocabSize();
        if ((long) Blas.paddedRows(t) * vocab > lens.length()) {
            throw new IllegalArgumentException("the logit-lens buffer holds fewer than " + t + " rows of logits");
        }
        act.start(List.of(new SequenceChunk(tokens, cache)));
        embed(act);                                      // x = tok_emb(in_idx) + pos_emb(positions): (T, emb)
        for (int layer = 0; layer < trfBlocks.length; layer++) {
            trfBlocks[layer].forward(act);               // x = trf_blocks[layer](x): (T, emb)
            // the one chunk starts at position 0, so act.scores holds this block's (heads, T, T) weights
            // until the next block's attention overwrites them
            probe.attentionWeights(layer, act.scores.buffer(), cfg.nHeads(), t);
            if (layer == trfBlocks.length - 1 || probe.wantsLogitLens(layer)) {
                // act.normed is free until the next block's norm1 writes it
                finalNorm.forward(act, act.x, act.normed); // final_norm(x): (T, emb)
                outHead.forward(act.normed, lens, t);      // out_head(...): (T, vocab)
                probe.logitLens(layer, lens.buffer(), t, vocab);
            }
        }
        cache.advance(t);
    }

    /**
     * A buffer for the logits of up to {@code tokens} positions ({@link #inspect}'s, {@link #positionLogits}'s): (rows,
     * vocab), rows padded as Linear runs them.
     */
    public Tensor logitLensBuffer(int tokens) {
        return Tensor.zeros(Blas.paddedRows(tokens), cfg.vocabSize());
    }

    /** act.x (rows, emb): row = tok_emb[token] + pos_emb[position], each chunk's positions following its cache. */
    private void embed(Activations act) {
        int e = cfg.embDim();
        FloatBuffer out = act.x.buffer();
        FloatBuffer tok = tokEmb.buffer();
        FloatBuffer pos = posEmb.buffer();
        int row = 0;
        for (SequenceChunk chunk : act.chunks) {
            int start = chunk.cache().length();
            for (int i = 0; i < chunk.tokens().length; i++, row++) {
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
    }
}
