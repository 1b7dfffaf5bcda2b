package com.scratchgpt.generation;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** Log-probabilities over the full vocabulary (softmax at temperature 1, in double precision). */
final class LogSoftmax {

    private LogSoftmax() {
    }

    /** The chosen token's log-probability and the {@code top} most likely alternatives. */
    static TokenLogprob of(FloatBuffer logits, int offset, int vocab, int chosen, int top, GPT2Tokenizer tokenizer) {
        double logZ = logNormalizer(logits, offset, vocab);
        int[] best = topIndices(logits, offset, vocab, top);
        List<TokenLogprob.Alternative> alternatives = new ArrayList<>(best.length);
        for (int t : best) {
            alternatives.add(new TokenLogprob.Alternative(t, tokenizer.tokenText(t), logits.get(offset + t) - logZ));
        }
        return new TokenLogprob(chosen, tokenizer.tokenText(chosen), logits.get(offset + chosen) - logZ, alternatives);
    }

    /** log(sum(exp(logits))) over one row: a token's log-probability is its logit minus this. */
    static double logNormalizer(FloatBuffer logits, int offset, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits.get(offset + i));
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits.get(offset + i) - max);
        }
        return max + Math.log(sum);
    }

    /** Indices of the n largest values, largest first (lower index first on ties). */
    static int[] topIndices(FloatBuffer logits, int offset, int vocab, int n) {
        int k = Math.min(n, vocab);
        int[] idx = new int[k];
        float[] val = new float[k];
        int size = 0;
        for (int i = 0; i < vocab; i++) {
            float v = logits.get(offset + i);
            if (size == k && (k == 0 || v <= val[k - 1])) {
                continue;
            }
            int j = size < k ? size++ : k - 1;
            while (j > 0 && val[j - 1] < v) {
                val[j] = val[j - 1];
                idx[j] = idx[j - 1];
                j--;
            }
            val[j] = v;
            idx[j] = i;
        }
        return idx;
    }
}
