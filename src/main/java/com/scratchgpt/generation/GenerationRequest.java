package com.scratchgpt.generation;

import java.util.List;

/**
 * What to generate, already validated by the caller.
 *
 * @param promptTokens the prompt as token ids (cropped to the context at every step, as the seeds do)
 * @param maxNewTokens how many tokens at most
 * @param temperature  0 for greedy (argmax, the seeds' loop), above 0 to sample from softmax(logits / temperature)
 * @param topK         keep only the k most likely tokens when sampling; null for all
 * @param topP         keep the smallest set of most likely tokens whose probability reaches p; null for all
 * @param seed         makes sampling reproducible; null for a random seed
 * @param stop         stop sequences, matched on the generated text and left out of it
 * @param logprobs     null, or how many top alternatives to report with each token's log-probability
 */
public record GenerationRequest(int[] promptTokens, int maxNewTokens, double temperature, Integer topK, Double topP,
                                Long seed, List<String> stop, Integer logprobs) {

    public GenerationRequest {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    public static GenerationRequest greedy(int[] promptTokens, int maxNewTokens) {
        return new GenerationRequest(promptTokens, maxNewTokens, 0.0, null, null, null, List.of(), null);
    }

    public boolean greedy() {
        return temperature == 0.0;
    }
}
