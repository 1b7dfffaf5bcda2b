package com.scratchgpt.model;

import com.scratchgpt.model.kernel.KernelPool;

/**
 * Splits the element-wise work of a step (GELU, softmax and LayerNorm rows, the heads of attention) across the
 * cores, on the threads that run the weight products ({@link KernelPool}): during decoding they are still
 * awake from the product before, so a handover costs microseconds, not the wake-up of a parked pool. Work
 * too small to pay even that (one decoded row's GELU or LayerNorm) runs on the calling thread.
 */
final class ParallelLoop {

    /**
     * Below this much work the loop stays on one thread. The unit is about one vectorised multiply-add (attention
     * counts positions times head size); a GELU element costs 16 of them, a LayerNorm element 8.
     */
    static final long MIN_PARALLEL_WORK = 1 << 16;

    /** Pieces per thread: pieces of uneven cost (attention rows of different lengths) even out. */
    private static final int PIECES_PER_THREAD = 4;

    /** A body over the index range [from, to). */
    interface Range {
        void run(int from, int to);
    }

    private ParallelLoop() {
    }

    /** Runs body over [0, n), in contiguous pieces spread over the cores when n * costPerIndex is large enough. */
    static void forRange(int n, long costPerIndex, Range body) {
        if (n < 2 || n * costPerIndex < MIN_PARALLEL_WORK) {
            body.run(0, n);
            return;
        }
        KernelPool pool = KernelPool.shared(); // with one core it runs every piece on this thread
        int pieces = Math.min(n, PIECES_PER_THREAD * pool.threads());
        pool.run(pieces, p -> body.run((int) ((long) n * p / pieces), (int) ((long) n * (p + 1) / pieces)));
    }
}
