package com.scratchgpt.generation;

import java.util.List;

/**
 * What to generate, already validated by the caller.
 *
 * @param promptTokens   the prompt as token ids (cropped to the context at every step, as the seeds do)
 * @param maxNewTokens   how many tokens at most
 * @param temperature    0 for greedy (argmax, the seeds' loop), above 0 to sample from softmax(logits / temperature)
 * @param topK           keep only the k most likely tokens when sampling; null for all
 * @param topP           keep the smallest set of most likely tokens whose probability reaches p; null for all
 * @param seed           makes sampling reproducible; null for a random seed
 * @param stop           stop sequences, matched on the generated text and left out of it
 * @param logprobs       null, or how many top alternatives to report with each token's log-probability
 * @param promptLogprobs report the prompt's tokens' log-probabilities too (with {@code logprobs} alternatives), each
 *                       under the logits of the position before it; the model must read the prompt in one window (at
 *                       most the context, one token more when none is generated: the last is then never read)
 */
public record GenerationRequest(int[] promptTokens, int maxNewTokens, double temperature, Integer topK, Double topP,
                                Long seed, List<String> stop, Integer logprobs, boolean promptLogprobs) {

    public GenerationRequest {
        stop = stop == null ? List.of() : List.copyOf(stop);
        if (promptLogprobs && logprobs == null) {
            throw new IllegalArgumentException("the prompt's log-probabilities come with logprobs alternatives: set logprobs");
        }
    }

    /** A request that reports log-probabilities of the generated tokens only, if any. */
    public GenerationRequest(int[] promptTokens, int maxNewTokens, double temperature, Integer topK, Double topP,
                             Long seed, List<String> stop, Integer logprobs) {
        this(promptTokens, maxNewTokens, temperature, topK, topP, seed, stop, logprobs, false);
    }

    public static GenerationRequest greedy(int[] promptTokens, int maxNewTokens) {
        return new GenerationRequest(promptTokens, maxNewTokens, 0.0, null, null, null, List.of(), null);
    }

    public boolean greedy() {
        return temperature == 0.0;
    }
}
