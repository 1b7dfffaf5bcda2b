package com.scratchgpt.generation;

/**
 * What to inspect, already validated by the caller: one forward pass over these tokens.
 *
 * @param tokens          the prompt as token ids, at most the model's context length
 * @param top             how many of the most likely tokens to report per lens cell and for the next token
 * @param attentionLayers the layers whose attention weights to return; empty for none
 * @param logitLens       whether to apply final_norm and out_head after every block, not only the last
 * @param temperature     the sampler's settings, as /generate takes them, for {@code sampledProb}: 0 for greedy
 * @param topK            keep only the k most likely tokens; null for all
 * @param topP            keep the smallest most-likely set whose probability reaches p; null for all
 */
public record InspectionRequest(int[] tokens, int top, int[] attentionLayers, boolean logitLens, double temperature,
                                Integer topK, Double topP) {
}
