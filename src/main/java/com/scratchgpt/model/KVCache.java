package com.scratchgpt.model;

/**
 * One sequence's keys and values, per layer, for the positions it has already run: the prompt runs
 * through the model once, then each new token only attends to what is stored here. The memory is a
 * range of rows in a {@link KVCachePool}'s per-layer arrays, or arrays of its own.
 */
public final class KVCache {

    private final Tensor[] keys;   // per layer: (rows, emb), heads side by side as the projection writes them
    private final Tensor[] values; // per layer: (rows, emb)
    private final int firstRow;
    private final int capacity;
    private final int emb;
    private int length;

    /** A cache with arrays of its own, for at most {@code capacity} <= context_length positions. */
    public KVCache(GPTConfig cfg, int capacity) {
        this(newLayers(cfg, capacity), newLayers(cfg, capacity), 0, capacity, cfg);
    }

    KVCache(Tensor[] keys, Tensor[] values, int firstRow, int capacity, GPTConfig cfg) {
        if (capacity <= 0 || capacity > cfg.contextLength()) {
            throw new IllegalArgumentException("KV cache capacity must be in 1.." + cfg.contextLength() + ", got " + capacity);
        }
        this.keys = keys;
        this.values = values;
        this.firstRow = firstRow;
        this.capacity = capacity;
        this.emb = cfg.embDim();
    }

    private static Tensor[] newLayers(GPTConfig cfg, int capacity) {
        Tensor[] t = new Tensor[cfg.nLayers()];
        for (int l = 0; l < t.length; l++) {
            t[l] = Tensor.zeros(capacity, cfg.embDim());
        }
        return t;
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

    /** Frees the arrays of a cache that has its own ({@link Tensor#free}); it is not used again. */
    void free() {
        for (int l = 0; l < keys.length; l++) {
            keys[l].free();
            values[l].free();
        }
    }

    /** Flat offset of position {@code position}'s row in the layer arrays. */
    long offset(int position) {
        return (long) (firstRow + position) * emb;
    }

    int firstRow() {
        return firstRow;
    }

    void advance(int positions) {
        if (length + positions > capacity) {
            throw new IllegalStateException("KV cache overflow: " + (length + positions) + " > " + capacity);
        }
        length += positions;
    }
}
