package com.scratchgpt.generation;

import java.util.List;

/**
 * The outcome of one request.
 *
 * @param promptTokens    the prompt as it was given
 * @param generatedTokens the tokens generated (with a stop sequence, those before the token where it begins)
 * @param generatedText   the continuation's text, without any stop sequence or end-of-text token
 * @param finishReason    why it ended
 * @param logprobs        one entry per generated token when asked for, else null
 * @param promptLogprobs  when asked for, one entry per prompt token after the first (nothing predicts the first):
 *                        token {@code i + 1} under the logits of position {@code i}; else null
 */
public record GenerationResult(int[] promptTokens, int[] generatedTokens, String generatedText,
                               FinishReason finishReason, List<TokenLogprob> logprobs, List<TokenLogprob> promptLogprobs) {
}
