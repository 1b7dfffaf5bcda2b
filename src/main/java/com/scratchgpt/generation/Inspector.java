package com.scratchgpt.generation;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import com.scratchgpt.model.Activations;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.InspectionProbe;
import com.scratchgpt.model.KVCache;
import com.scratchgpt.model.Tensor;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * Runs one inspection: {@link GPTModel#inspect} over the prompt, keeping of each block's output only what the
 * answer shows (the attention weights asked for, the top tokens of each lens row), then the loss and the next
 * token from the last block's logits. Owned by the scheduler's thread, which lends it a KV cache and its step
 * buffers.
 */
final class Inspector {

    private final GPTModel model;
    private final GPT2Tokenizer tokenizer;
    private Tensor lens;    // (rows, vocab): for the longest prompt inspected so far
    private int lensTokens;

    Inspector(GPTModel model, GPT2Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** Refuses a request the model cannot run: checked before it is queued. */
    void check(InspectionRequest r) {
        int ctx = model.config().contextLength();
        if (r.tokens().length == 0 || r.tokens().length > ctx) {
            throw new IllegalArgumentException("an inspection needs 1 to " + ctx + " tokens, got " + r.tokens().length);
        }
        for (int t : r.tokens()) {
            if (t < 0 || t >= model.config().vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary");
            }
        }
        for (int layer : r.attentionLayers()) {
            if (layer < 0 || layer >= model.config().nLayers()) {
                throw new IllegalArgumentException("layer " + layer + " is not one of the model's 0.." + (model.config().nLayers() - 1));
            }
        }
        if (r.top() < 1) {
            throw new IllegalArgumentException("top must be at least 1, got " + r.top());
        }
    }

    /** One forward pass over r.tokens(): cache (empty, at least T positions) and act lent for it. */
    Inspection inspect(InspectionRequest r, KVCache cache, Activations act) {
        int[] tokens = r.tokens();
        if (tokens.length > lensTokens) {
            lens = model.logitLensBuffer(tokens.length);
            lensTokens = tokens.length;
        }
        Probe probe = new Probe(r);
        model.inspect(tokens, cache, act, lens, probe);
        List<Inspection.Token> prompt = Arrays.stream(tokens).mapToObj(t -> new Inspection.Token(t, tokenizer.tokenText(t))).toList();
        return new Inspection(prompt, probe.attention, r.logitLens() ? Arrays.asList(probe.logitLens) : null, probe.next,
                probe.loss);
    }

    /** Keeps what the answer shows of each block, as the model hands it over. */
    private final class Probe implements InspectionProbe {
        private final InspectionRequest r;
        private final int last = model.config().nLayers() - 1;
        private final boolean[] attentionWanted = new boolean[last + 1];
        final float[][][][] attention;
        final List<Inspection.LensCell>[] logitLens;
        Inspection.Next next;
        Inspection.Loss loss;

        @SuppressWarnings("unchecked")
        Probe(InspectionRequest r) {
            this.r = r;
            for (int layer : r.attentionLayers()) {
                attentionWanted[layer] = true;
            }
            this.attention = r.attentionLayers().length == 0 ? null : new float[last + 1][][][];
            this.logitLens = new List[last + 1];
        }

        @Override
        public boolean wantsLogitLens(int layer) {
            return r.logitLens();
        }

        @Override
        public void attentionWeights(int layer, FloatBuffer weights, int heads, int tokens) {
            if (!attentionWanted[layer]) {
                return;
            }
            float[][][] byHead = new float[heads][tokens][];
            for (int h = 0; h < heads; h++) {
                for (int q = 0; q < tokens; q++) {
                    byHead[h][q] = new float[q + 1]; // the causal row: keys 0..q
                    weights.get((h * tokens + q) * tokens, byHead[h][q]);
                }
            }
            attention[layer] = byHead;
        }

        @Override
        public void logitLens(int layer, FloatBuffer logits, int tokens, int vocab) {
            double[] logZ = new double[tokens];
            int[][] best = new int[tokens][];
            // each row: softmax over the whole vocabulary, of which only the top tokens are kept
            IntStream.range(0, tokens).parallel().forEach(p -> {
                logZ[p] = LogSoftmax.logNormalizer(logits, p * vocab, vocab);
                best[p] = LogSoftmax.topIndices(logits, p * vocab, vocab, r.top());
            });
            List<Inspection.LensCell> row = new ArrayList<>(tokens);
            for (int p = 0; p < tokens; p++) {
                List<Inspection.LensToken> top = new ArrayList<>(best[p].length);
                for (int t : best[p]) {
                    top.add(new Inspection.LensToken(t, tokenizer.tokenText(t), Math.exp(logits.get(p * vocab + t) - logZ[p])));
                }
                row.add(new Inspection.LensCell(top));
            }
            logitLens[layer] = row;
            if (layer == last) {
                loss = loss(logits, logZ, vocab);
                next = next(logits, (tokens - 1) * vocab, logZ[tokens - 1], best[tokens - 1], vocab);
            }
        }

        /** Cross-entropy of token p + 1 under row p's softmax: logZ - logit. */
        private Inspection.Loss loss(FloatBuffer logits, double[] logZ, int vocab) {
            int[] tokens = r.tokens();
            double[] perToken = new double[tokens.length - 1];
            double sum = 0;
            for (int p = 0; p < perToken.length; p++) {
                perToken[p] = logZ[p] - logits.get(p * vocab + tokens[p + 1]);
                sum += perToken[p];
            }
            Double mean = perToken.length == 0 ? null : sum / perToken.length;
            return new Inspection.Loss(perToken, mean, mean == null ? null : Math.exp(mean));
        }

        /** The last row's top tokens, with what the sampler /generate would use gives each. */
        private Inspection.Next next(FloatBuffer logits, int offset, double logZ, int[] best, int vocab) {
            Sampler.Distribution sampled = Sampler.of(r.temperature(), r.topK(), r.topP(), 0L)
                    .distribution(logits, offset, vocab);
            List<Inspection.NextToken> top = new ArrayList<>(best.length);
            for (int t : best) {
                float logit = logits.get(offset + t);
                top.add(new Inspection.NextToken(t, tokenizer.tokenText(t), logit, Math.exp(logit - logZ),
                        sampled.probability(t)));
            }
            return new Inspection.Next(top);
        }
    }
}
