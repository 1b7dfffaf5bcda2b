package com.scratchgpt.model;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Splits the element-wise work of a long prompt (GELU, softmax, LayerNorm rows) across the cores; BLAS
 * already uses them for the matrix products. Short work (a decode step) runs on the calling thread,
 * where handing it over would cost more than it saves.
 */
final class ParallelLoop {

    /** Below this many units of work (elements, or rows weighted by width) the loop stays on one thread. */
    static final long MIN_PARALLEL_WORK = 1 << 16;

    private static final int THREADS = Runtime.getRuntime().availableProcessors();
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);

    /** A body over the index range [from, to). */
    interface Range {
        void run(int from, int to);
    }

    private ParallelLoop() {
    }

    /** Runs body over [0, n), in THREADS contiguous pieces when n * costPerIndex is large enough. */
    static void forRange(int n, long costPerIndex, Range body) {
        if (THREADS == 1 || n < 2 || n * costPerIndex < MIN_PARALLEL_WORK) {
            body.run(0, n);
            return;
        }
        int pieces = Math.min(THREADS, n);
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[pieces - 1];
        for (int p = 1; p < pieces; p++) {
            int from = (int) ((long) n * p / pieces);
            int to = (int) ((long) n * (p + 1) / pieces);
            tasks[p - 1] = POOL.submit(() -> body.run(from, to));
        }
        body.run(0, (int) ((long) n / pieces));
        for (ForkJoinTask<?> t : tasks) {
            t.join();
        }
    }
}
