package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The KV-cache pool hands out disjoint ranges and gets every position back. */
class KVCachePoolTest {

    @Test
    void thousandsOfRandomAllocationsAndReleasesLeaveTheWholePoolFree() {
        GPTConfig cfg = new GPTConfig(50257, 64, 8, 2, 1, 0.0, false);
        KVCachePool pool = new KVCachePool(cfg, 512);
        Random random = new Random(3);
        List<KVCache> live = new ArrayList<>();
        boolean[] taken = new boolean[512];
        for (int i = 0; i < 20_000; i++) {
            if (!live.isEmpty() && (random.nextBoolean() || live.size() > 20)) {
                KVCache c = live.remove(random.nextInt(live.size()));
                for (int p = 0; p < c.capacity(); p++) {
                    taken[c.firstRow() + p] = false;
                }
                pool.release(c);
            } else {
                KVCache c = pool.allocate(1 + random.nextInt(64));
                if (c != null) {
                    for (int p = 0; p < c.capacity(); p++) {
                        assertThat(taken[c.firstRow() + p]).as("position %d handed out twice", c.firstRow() + p).isFalse();
                        taken[c.firstRow() + p] = true;
                    }
                    live.add(c);
                }
            }
            assertThat(pool.used()).isEqualTo(live.stream().mapToInt(KVCache::capacity).sum());
        }
        live.forEach(pool::release);
        assertThat(pool.used()).isZero();
        for (int i = 0; i < 8; i++) {
            assertThat(pool.allocate(64)).as("the freed ranges merge back: full context %d of 8", i).isNotNull();
        }
    }
}
