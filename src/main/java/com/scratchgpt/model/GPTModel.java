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
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.nd4j.linalg.api.ndarray.INDArray;

import com.scratchgpt.model.ParameterTable.Parameter;
import com.scratchgpt.model.ParameterTable.Role;
import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.model.kernel.WeightMatrix;

/**
 * The seeds' GPTModel: token + position embeddings, n_layers transformer blocks, final LayerNorm,
 * linear output head. Inference only (eval mode: dropout is never applied).
 *
 * <p>Parameters are named and shaped as the {@link ParameterTable} lists them (the seeds' state_dict
 * names, with each block's W_query, W_key and W_value fused into one {@code att.qkv}). The output head
 * may share the token embedding's array (weight tying). The linear layers' weights and the token
 * embedding are held in the model's {@link WeightFormat}; everything else in float32
 * ({@link Parameter#inWeightFormat}).
 */
public final class GPTModel {

    private final GPTConfig cfg;
    private final WeightFormat format;
    private final Tensor tokEmb;                 // (vocab, emb) in f32; null in the other formats
    private final WeightMatrix tokEmbWeight;     // (vocab, emb) in bf16 or q8_0; null in f32
    private final Tensor posEmb;                 // (context, emb)
    private final TransformerBlock[] trfBlocks;
    private final LayerNorm finalNorm;
    private final Linear outHead;                // weight (vocab, emb), bias-free
    private final boolean tiedOutputHead;
    private final Map<String, Tensor> parameters;
    private final Map<String, WeightMatrix> converted;
    private final long residentBytes;

    private GPTModel(GPTConfig cfg, WeightFormat format, Map<String, Tensor> p, Map<String, WeightMatrix> converted,
                     boolean tiedOutputHead) {
        this.cfg = cfg;
        this.format = format;
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(p));
        this.converted = Collections.unmodifiableMap(new LinkedHashMap<>(converted));
        this.tiedOutputHead = tiedOutputHead;
        String tok = TOK_EMB.name(-1, Role.WEIGHT);
        this.tokEmb = p.get(tok);
        this.tokEmbWeight = converted.get(tok);
        this.posEmb = p.get(POS_EMB.name(-1, Role.WEIGHT));
        this.trfBlocks = new TransformerBlock[cfg.nLayers()];
        for (int i = 0; i < cfg.nLayers(); i++) {
            trfBlocks[i] = new TransformerBlock(
                    layerNorm(NORM1, i),
                    new MultiHeadAttention(linear(ATT_QKV, i), linear(ATT_OUT_PROJ, i), cfg.nHeads(), i),
                    layerNorm(NORM2, i),
                    new FeedForward(linear(FF_FC, i), linear(FF_PROJ, i)));
        }
        this.finalNorm = layerNorm(FINAL_NORM, -1);
        this.outHead = tiedOutputHead ? linear(TOK_EMB, -1) : linear(OUT_HEAD, -1);
        long bytes = 0;
        for (Parameter e : ParameterTable.parameters(cfg, tiedOutputHead)) {
            Tensor t = p.get(e.name());
            bytes += t != null ? t.length() * Float.BYTES : converted.get(e.name()).residentBytes();
        }
        this.residentBytes = bytes;
    }

    /** The layer of this row (its weight, and its bias if it has one), in the model's weight format. */
    private Linear linear(ParameterTable row, int layer) {
        String weight = row.name(layer, Role.WEIGHT);
        Tensor bias = parameters.get(row.name(layer, Role.BIAS));
        return converted.containsKey(weight) ? new Linear(converted.get(weight), bias)
                : new Linear(parameters.get(weight), bias);
    }

    private LayerNorm layerNorm(ParameterTable row, int layer) {
        return new LayerNorm(parameters.get(row.name(layer, Role.SCALE)), parameters.get(row.name(layer, Role.SHIFT)));
    }

    /**
     * Builds a float32 model on these arrays, which must be exactly {@link ParameterTable#parameters} (with
     * {@code out_head.weight} absent when the head is tied to the token embedding).
     */
    public static GPTModel of(GPTConfig cfg, Map<String, Tensor> parameters) {
        boolean tied = !parameters.containsKey(OUT_HEAD.name(-1, Role.WEIGHT));
        Set<String> expected = new HashSet<>();
        for (Parameter e : ParameterTable.parameters(cfg, tied)) {
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
        return new GPTModel(cfg, WeightFormat.F32, parameters, Map.of(), tied);
    }

    /**
     * Builds the model with its weights in {@code format}, asking {@code source} for each parameter in turn.
     * A weight held in another format is read into one scratch array (float32, or its 16-bit bits when the
     * source holds bfloat16 or binary16 and the format is bf16), converted, and the scratch reused for the
     * next: at no time is more held than the model in its format plus the largest tensor.
     */
    public static GPTModel load(GPTConfig cfg, boolean tiedOutputHead, WeightFormat format, ParameterSource source) {
        List<Parameter> table = ParameterTable.parameters(cfg, tiedOutputHead);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, WeightMatrix> converted = new LinkedHashMap<>();
        Scratch scratch = new Scratch(table.stream().filter(Parameter::inWeightFormat).mapToLong(Parameter::numel).max()
                .orElse(0));
        for (Parameter p : table) {
            if (format == WeightFormat.F32 || !p.inWeightFormat()) {
                Tensor t = Tensor.zeros(p.shape());
                source.read(p, t.buffer());
                tensors.put(p.name(), t);
            } else {
                converted.put(p.name(), convert(p, format, source, scratch));
            }
        }
        return new GPTModel(cfg, format, tensors, converted, tiedOutputHead);
    }

    /** Parameter p (a matrix) from the source in this format (bf16 or q8_0). */
    private static WeightMatrix convert(Parameter p, WeightFormat format, ParameterSource source, Scratch scratch) {
        int out = Math.toIntExact(p.shape()[0]);
        int in = Math.toIntExact(p.shape()[1]);
        ParameterSource.Half half = source.half(p);
        if (format == WeightFormat.BF16 && half != null) {
            ShortBuffer bits = scratch.bits();
            source.readHalf(p, bits);
            return half == ParameterSource.Half.BF16 ? WeightMatrix.bf16FromBf16(bits, out, in)
                    : WeightMatrix.bf16FromF16(bits, out, in);
        }
        FloatBuffer values = scratch.values();
        source.read(p, values);
        return WeightMatrix.of(format, values, out, in);
    }

    /** The one scratch array a load converts every weight through, allocated when first needed. */
    private static final class Scratch {

        private final int length;
        private FloatBuffer values;
        private ShortBuffer bits;

        Scratch(long length) {
            this.length = Math.toIntExact(length);
        }

        FloatBuffer values() {
            if (values == null) {
                values = FloatBuffer.allocate(length);
            }
            return values;
        }

        ShortBuffer bits() {
            if (bits == null) {
                bits = ShortBuffer.allocate(length);
            }
            return bits;
        }
    }

    public GPTConfig config() {
        return cfg;
    }

    public boolean tiedOutputHead() {
        return tiedOutputHead;
    }

    /** How the linear layers' weights and the token embedding are held and computed. */
    public WeightFormat weightFormat() {
        return format;
    }

    /**
     * The float32 parameter arrays by name: every parameter in f32 (a tied head once, as tok_emb.weight); in
     * bf16 and q8_0 those that stay float32 (position embedding, LayerNorm parameters, biases).
     */
    public Map<String, Tensor> parameters() {
        return parameters;
    }

    /** The parameters held in bf16 or q8_0 by name (none in f32), each matrix once. */
    public Map<String, WeightMatrix> convertedParameters() {
        return converted;
    }

    /** Parameters held, each tensor once (a tied head counts once), like the seeds' sum(p.numel()). */
    public long parameterCount() {
        return ParameterCount.of(cfg, tiedOutputHead).totalParameters();
    }

    /**
     * Bytes the weights occupy as held: float32 arrays (off-heap) at 4 bytes a parameter, bf16 and q8_0
     * matrices (on the Java heap) at what their format takes, scales included; each tensor once.
     */
    public long residentBytes() {
        return residentBytes;
    }

    /**
     * One step for several sequences at once: each chunk's tokens run through the model, extending its
     * cache, and the logits of each chunk's last position land in {@code act.logits()}: (sequences, vocab).
     */
    public void forward(List<SequenceChunk> chunks, Activations act) {
        hiddenStates(chunks, act);
        // logits = out_head(x), at each sequence's last position only: the one generation reads
        act.gatherLastPositions(act.normed, act.last);       // (sequences, emb)
        outHead.forward(act.last, act.logits, chunks.size()); // (sequences, vocab), each row alone
    }

    /**
     * out_head over positions [from, from + count) of chunk {@code chunk} of the last {@link #forward(List, Activations)}
     * step: the logits each of those positions gives for the token after it, (count, vocab) into {@code logits}, a
     * {@link #logitLensBuffer} for at least count tokens. forward applies the head at each chunk's last position only,
     * which is all generation needs; scoring a prompt needs every position's, at a (vocab, emb) product a row, paid
     * only when asked for.
     */
    public void positionLogits(Activations act, int chunk, int from, int count, Tensor logits) {
        if (chunk < 0 || chunk >= act.chunks.size() || from < 0 || count < 1
                || from + count > act.chunks.get(chunk).tokens().length) {
            throw new IllegalArgumentException("positions " + from + ".." + (from + count - 1) + " of chunk " + chunk
                    + " are not positions of the last step");
        }
        if ((long) Blas.paddedRows(count) * cfg.vocabSize() > logits.length()) {
            throw new IllegalArgumentException("the logits buffer holds fewer than " + count + " rows of logits");
        }
        int e = cfg.embDim();
        int row = act.firstRow(chunk) + from; // the step's rows put short chunks first, not in the chunks' order
        // out_head reads its rows from the start of a buffer; act.delta is free once the step is done
        act.delta.copyFrom(act.normed, row * e, 0, count * e);  // x = final_norm(x) at those rows: (count, emb)
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
        try {
            hiddenStates(chunks, act);
            Tensor logits = Tensor.zeros(act.rows, cfg.vocabSize());
            outHead.forward(act, act.normed, logits); // logits = out_head(x): (batch * tokens, vocab)
            return logits.array().reshape(batch, t, cfg.vocabSize());
        } finally {
            // the step's buffers and caches are freed now: a loop calling forward would otherwise hold each
            // call's until the garbage collector finds them (GPT-2 small at 1,024 tokens: 160 MB a call)
            act.free();
            chunks.forEach(chunk -> chunk.cache().free());
        }
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
        act.keepsAttention = true;
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
        FloatBuffer pos = posEmb.buffer();
        float[] tok = new float[e];
        for (int c = 0; c < act.chunks.size(); c++) {
            SequenceChunk chunk = act.chunks.get(c);
            int start = chunk.cache().length();
            int row = act.firstRow(c);
            for (int i = 0; i < chunk.tokens().length; i++, row++) {
                int token = chunk.tokens()[i];
                if (token < 0 || token >= cfg.vocabSize()) {
                    throw new IllegalArgumentException("token id " + token + " is outside the vocabulary 0.." + (cfg.vocabSize() - 1));
                }
                tokenEmbedding(token, tok);
                int pb = (start + i) * e;
                for (int j = 0; j < e; j++) {
                    out.put(row * e + j, tok[j] + pos.get(pb + j));
                }
            }
        }
    }

    /** dst (emb) = tok_emb[token], as float32. */
    private void tokenEmbedding(int token, float[] dst) {
        if (tokEmb != null) {
            tokEmb.buffer().get(token * cfg.embDim(), dst, 0, cfg.embDim());
        } else {
            tokEmbWeight.dequantizeRow(token, dst, 0);
        }
    }
}
