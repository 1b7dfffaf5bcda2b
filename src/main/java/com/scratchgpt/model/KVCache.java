package com.scratchgpt.model;

/**
 * One sequence's keys and values, per layer, for the positions it has already run: the prompt runs
 * through the model once, then each new token only attends to what is stored here.
 * Allocated once for a capacity of at most context_length positions.
 */
public final class KVCache {

    private final Tensor[] keys;   // per layer: (capacity, emb), heads side by side as the projection writes them
    private final Tensor[] values; // per layer: (capacity, emb)
    private final int capacity;
    private int length;

    public KVCache(GPTConfig cfg, int capacity) {
        if (capacity <= 0 || capacity > cfg.contextLength()) {
            throw new IllegalArgumentException("KV cache capacity must be in 1.." + cfg.contextLength() + ", got " + capacity);
        }
        this.capacity = capacity;
        this.keys = new Tensor[cfg.nLayers()];
        this.values = new Tensor[cfg.nLayers()];
        for (int l = 0; l < cfg.nLayers(); l++) {
            keys[l] = Tensor.zeros(capacity, cfg.embDim());
            values[l] = Tensor.zeros(capacity, cfg.embDim());
        }
    }

    /** Positions stored so far; the next token's position. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Forgets every position (the memory is kept). */
    public void clear() {
        length = 0;
    }

    Tensor keys(int layer) {
        return keys[layer];
    }

    Tensor values(int layer) {
        return values[layer];
    }

    void advance(int positions) {
        if (length + positions > capacity) {
            throw new IllegalStateException("KV cache overflow: " + (length + positions) + " > " + capacity);
        }
        length += positions;
    }

    /** Bytes of memory held. */
    public long sizeBytes() {
        return 2L * keys.length * keys[0].length() * Float.BYTES;
    }
}
