package com.scratchgpt.generation;

import java.util.List;

/**
 * A generated token's natural-log probability under the softmax of the full vocabulary at
 * temperature 1, with the most likely alternatives.
 */
public record TokenLogprob(int token, String text, double logprob, List<Alternative> top) {

    public record Alternative(int token, String text, double logprob) {
    }
}
