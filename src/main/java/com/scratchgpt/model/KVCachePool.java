package com.scratchgpt.model;

import java.util.Map;
import java.util.TreeMap;

/**
 * Memory for the KV caches of every sequence in flight, allocated once: per layer one (positions, emb)
 * array for keys and one for values. Each sequence borrows a contiguous range of positions (first fit)
 * and gives it back when it ends. Not thread-safe: owned by the scheduler's thread.
 */
public final class KVCachePool {

    private final GPTConfig cfg;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final TreeMap<Integer, Integer> free = new TreeMap<>(); // first row -> length
    private int used;

    public KVCachePool(GPTConfig cfg, int positions) {
        if (positions < 1) {
            throw new IllegalArgumentException("a KV cache pool needs at least one position");
        }
        this.cfg = cfg;
        this.keys = new Tensor[cfg.nLayers()];
        this.values = new Tensor[cfg.nLayers()];
        for (int l = 0; l < cfg.nLayers(); l++) {
            keys[l] = Tensor.zeros(positions, cfg.embDim());
            values[l] = Tensor.zeros(positions, cfg.embDim());
        }
        free.put(0, positions);
    }

    /** A cache of this capacity, or null when no free range is that long now. */
    public KVCache allocate(int capacity) {
        for (Map.Entry<Integer, Integer> range : free.entrySet()) {
            int first = range.getKey();
            int length = range.getValue();
            if (length >= capacity) {
                // read before removing: TreeMap may reuse the removed entry for its successor
                free.remove(first);
                if (length > capacity) {
                    free.put(first + capacity, length - capacity);
                }
                used += capacity;
                return new KVCache(keys, values, first, capacity, cfg);
            }
        }
        return null;
    }

    /** Gives a cache's positions back, merging them with free neighbours. */
    public void release(KVCache cache) {
        int first = cache.firstRow();
        int length = cache.capacity();
        used -= length;
        Map.Entry<Integer, Integer> before = free.floorEntry(first);
        if (before != null && before.getKey() + before.getValue() == first) {
            first = before.getKey();
            length += before.getValue();
            free.remove(before.getKey());
        }
        Integer after = free.containsKey(first + length) ? first + length : null;
        if (after != null) {
            length += free.remove(after);
        }
        free.put(first, length);
    }

    /** Positions borrowed now. */
    public int used() {
        return used;
    }

    /** Bytes of memory held. */
    public long sizeBytes() {
        return 2L * keys.length * keys[0].length() * Float.BYTES;
    }
}
