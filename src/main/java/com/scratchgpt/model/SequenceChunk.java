package com.scratchgpt.model;

/**
 * One sequence's share of a forward pass: its new tokens, and the cache they extend. The tokens take
 * positions {@code cache.length()} onwards.
 */
public record SequenceChunk(int[] tokens, KVCache cache) {

    public SequenceChunk {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a chunk needs at least one token");
        }
    }
}
