package com.scratchgpt.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

/**
 * The pool that runs the weight products and the element-wise work between them: every chunk exactly once,
 * whoever takes it; a chunk that runs work of its own on the pool (a product inside a loop body) gets it done
 * on its own thread; a failure reaches the caller.
 */
class KernelPoolTest {

    private final KernelPool pool = new KernelPool(2);

    @Test
    void everyChunkRunsExactlyOnce() {
        for (int count : new int[] {1, 2, 3, 47, 1000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(count);
            pool.run(count, runs::incrementAndGet);
            for (int c = 0; c < count; c++) {
                assertThat(runs.get(c)).as("chunk %d of %d", c, count).isEqualTo(1);
            }
        }
    }

    @Test
    void theWorkerTakesChunksWhileTheCallerWorks() {
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        for (int attempt = 0; attempt < 100 && threads.size() < 2; attempt++) {
            pool.run(64, c -> {
                threads.add(Thread.currentThread());
                long until = System.nanoTime() + 200_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            });
        }
        assertThat(threads).hasSize(2).contains(Thread.currentThread());
    }

    @Test
    void workStartedFromAChunkRunsOnThatChunksThread() {
        int outer = 16;
        int inner = 8;
        AtomicIntegerArray runs = new AtomicIntegerArray(outer * inner);
        pool.run(outer, o -> {
            Thread own = Thread.currentThread();
            pool.run(inner, i -> {
                assertThat(Thread.currentThread()).isSameAs(own);
                runs.incrementAndGet(o * inner + i);
            });
        });
        for (int i = 0; i < outer * inner; i++) {
            assertThat(runs.get(i)).isEqualTo(1);
        }
    }

    @Test
    void aFailingChunkFailsTheRunAndThePoolGoesOn() {
        assertThatThrownBy(() -> pool.run(32, c -> {
            if (c == 17) {
                throw new IllegalStateException("chunk 17");
            }
        })).isInstanceOf(IllegalStateException.class).hasMessage("chunk 17");

        AtomicIntegerArray runs = new AtomicIntegerArray(32);
        pool.run(32, runs::incrementAndGet);
        for (int c = 0; c < 32; c++) {
            assertThat(runs.get(c)).isEqualTo(1);
        }
    }
}
