package com.scratchgpt.model;

import java.nio.FloatBuffer;

/**
 * What {@link GPTModel#inspect} hands over after each transformer block. The buffers are the model's working
 * memory: read them during the call, they are overwritten after it.
 */
public interface InspectionProbe {

    /** Whether to apply final_norm and out_head to the residual stream after this block (the last block's always are). */
    boolean wantsLogitLens(int layer);

    /**
     * weights (heads, tokens, tokens): block {@code layer}'s softmax(q k^T / sqrt(head_dim)) under the causal
     * mask, head h's row q at {@code (h * tokens + q) * tokens}; its keys 0..q hold the weights, the masked rest 0.
     */
    void attentionWeights(int layer, FloatBuffer weights, int heads, int tokens);

    /**
     * logits (tokens, vocab): out_head(final_norm(x)) for the residual stream x after block {@code layer}, row p
     * at {@code p * vocab}. The last block's are the model's logits.
     */
    void logitLens(int layer, FloatBuffer logits, int tokens, int vocab);
}
