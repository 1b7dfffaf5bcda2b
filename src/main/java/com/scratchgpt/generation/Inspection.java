package com.scratchgpt.generation;

import java.util.List;

/**
 * What one forward pass over a prompt shows.
 *
 * @param tokens    the prompt's tokens
 * @param attention [layer][head][query][key]: every head's softmax weights, row q holding keys 0..q; a layer not
 *                  asked for is null, and the whole is null when none was
 * @param logitLens [layer][position]: the most likely next tokens if the residual stream after that block went
 *                  straight to final_norm and out_head; null when not asked for
 * @param next      the most likely tokens after the last position, as the model predicts them
 * @param loss      the cross-entropy of each prompt token given the ones before
 */
public record Inspection(List<Token> tokens, float[][][][] attention, List<List<LensCell>> logitLens, Next next,
                         Loss loss) {

    /** A prompt token: its id and its text on its own. */
    public record Token(int id, String text) {
    }

    /** One cell of the logit lens: its {@code top} most likely tokens, most likely first. */
    public record LensCell(List<LensToken> top) {
    }

    /** A token and its probability under softmax over the whole vocabulary. */
    public record LensToken(int token, String text, double prob) {
    }

    /** The model's prediction after the last position: its most likely tokens, most likely first. */
    public record Next(List<NextToken> top) {
    }

    /**
     * @param logit       the model's logit
     * @param prob        softmax over the whole vocabulary at temperature 1
     * @param sampledProb the probability the sampler gives it under the request's temperature, topK and topP
     *                    (what /generate draws from; 0 when filtered out, 1 for the argmax when greedy)
     */
    public record NextToken(int token, String text, float logit, double prob, double sampledProb) {
    }

    /**
     * The book's chapter 5 loss on the prompt itself.
     *
     * @param perToken   T - 1 cross-entropies (natural log): token p + 1 given tokens 0..p
     * @param mean       their mean; null for a one-token prompt
     * @param perplexity exp(mean); null for a one-token prompt
     */
    public record Loss(double[] perToken, Double mean, Double perplexity) {
    }
}
