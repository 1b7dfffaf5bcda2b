package com.scratchgpt.model.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The threads a weight product runs on: the caller plus one worker per further core. A product is cut
 * into chunks of weight rows; every thread takes the next chunk from one counter until none is left, so a
 * core slowed by a neighbour simply takes fewer chunks. Which thread computes a chunk never changes its
 * values: each output element is computed by one thread, in the same order.
 *
 * <p>Why not the ForkJoinPool of {@code model/ParallelLoop}: a decode step runs 49 products of 0.1 to
 * 2 ms each, and waking a parked ForkJoin worker costs tens of microseconds each time. Workers here spin
 * for {@link #SPIN_NANOS} after a product before parking, so the products of one step find them awake,
 * as OpenBLAS's own threads do between its calls.
 */
final class KernelPool {

    /**
     * How long an idle worker spins before it parks: longer than the gaps between the products of one
     * decode step (LayerNorm, attention, GELU on a few rows), far shorter than the gap between requests.
     */
    static final long SPIN_NANOS = 200_000;

    /** Chunks of a product, numbered from 0. */
    interface Chunks {
        void run(int chunk);
    }

    private static final KernelPool SHARED = new KernelPool(Runtime.getRuntime().availableProcessors());

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock inUse = new ReentrantLock();
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Chunks body;
    private volatile int count;
    private volatile long generation;

    /** A pool of {@code threads} threads in all, the caller included (1: everything runs on the caller). */
    KernelPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a kernel pool needs at least one thread, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(this::work, "scratchgpt-kernel-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    /** The pool every weight matrix uses: one thread per core. */
    static KernelPool shared() {
        return SHARED;
    }

    int threads() {
        return threads;
    }

    /**
     * Runs {@code body} on chunks 0..count-1, each exactly once, on the caller and the workers; returns when
     * all are done. A second caller arriving while the workers are busy runs its chunks on its own thread.
     */
    void run(int count, Chunks body) {
        if (workers.length == 0 || count < 2 || !inUse.tryLock()) {
            for (int c = 0; c < count; c++) {
                body.run(c);
            }
            return;
        }
        try {
            this.body = body;
            this.count = count;
            next.set(0);
            failure.set(null);
            running.set(workers.length);
            generation++; // volatile write: publishes body, count and the reset counters to the workers
            for (Thread worker : workers) {
                LockSupport.unpark(worker);
            }
            Throwable mine = null;
            try {
                take(body, count);
            } catch (RuntimeException | Error e) {
                mine = e;
                next.set(count); // the workers stop taking chunks
            }
            while (running.get() != 0) {
                Thread.onSpinWait();
            }
            this.body = null;
            Throwable theirs = failure.get();
            if (mine != null || theirs != null) {
                throw rethrowable(mine != null ? mine : theirs);
            }
        } finally {
            inUse.unlock();
        }
    }

    private void take(Chunks body, int count) {
        for (int c = next.getAndIncrement(); c < count; c = next.getAndIncrement()) {
            body.run(c);
        }
    }

    private void work() {
        long seen = 0;
        while (true) {
            long idleSince = System.nanoTime();
            while (generation == seen) {
                if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this); // the next run() unparks every worker
                }
            }
            seen = generation;
            try {
                take(body, count);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                next.set(count); // the other threads stop taking chunks
            } finally {
                running.decrementAndGet();
            }
        }
    }

    private static RuntimeException rethrowable(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }
}
