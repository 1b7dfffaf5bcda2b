package com.scratchgpt.generation;

/**
 * What one request may ask, known before it is queued, so that the API refuses at once (400, naming its
 * field) what could never run or would hold the engine for minutes, rather than queueing it.
 *
 * @param maxNewTokens         the most new tokens of a sequence (gpt.generation.max-new-tokens)
 * @param contextLength        the model's context length
 * @param maxTokensPastContext tokens a sequence may generate past the context, where each recomputes the
 *                             whole window (gpt.generation.max-tokens-past-context)
 * @param maxSequences         sequences one request may submit: its share of the generation slots, the rest
 *                             waiting in the queue
 */
public record RequestLimits(int maxNewTokens, int contextLength, int maxTokensPastContext, int maxSequences) {

    /**
     * The most new tokens a prompt of this length may ask. Once a sequence holds more than the context, the
     * window slides with each new token and every position changes (the seeds' crop), so each token after
     * the first runs the whole window again; at most {@code maxTokensPastContext} tokens may do so.
     */
    public int maxNewTokens(int promptLength) {
        long untilTheWindowSlides = Math.max(promptLength, contextLength) - promptLength + 1L;
        return (int) Math.min(maxNewTokens, untilTheWindowSlides + maxTokensPastContext);
    }
}
