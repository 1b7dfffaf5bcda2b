package com.scratchgpt.model.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The threads a weight product runs on: the caller plus one worker per further core. A product is cut
 * into chunks of weight rows; every thread takes the next chunk from one counter until none is left, so a
 * core slowed by a neighbour simply takes fewer chunks, and the caller never waits for a worker that has
 * not started a chunk by the time the last one is taken. Which thread computes a chunk never changes its
 * values: each output element is computed by one thread, in the same order.
 *
 * <p>Why not a ForkJoinPool: a decode step runs 49 products of 0.1 to 2 ms each, with LayerNorm, attention
 * and GELU between them, and waking a parked thread costs tens of microseconds each time. Workers here keep
 * looking for work for {@link #SPIN_NANOS} after a product before parking, yielding the core to any other
 * thread that wants it, so the products of one step, and the element-wise work between them
 * ({@code model/ParallelLoop}), find them awake, as OpenBLAS's own threads do.
 */
public final class KernelPool {

    /**
     * How long an idle worker keeps looking for the next product before it parks: longer than the gaps
     * between the products of one decode step (LayerNorm, attention, GELU on a few rows), far shorter than
     * the gap between requests.
     */
    static final long SPIN_NANOS = 200_000;

    /** Chunks of a product, numbered from 0. */
    public interface Chunks {
        void run(int chunk);
    }

    private static final KernelPool SHARED = new KernelPool(Runtime.getRuntime().availableProcessors());

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock inUse = new ReentrantLock();
    private volatile Product current;

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
    public static KernelPool shared() {
        return SHARED;
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} on chunks 0..count-1, each exactly once, on the caller and whichever workers join in
     * time; returns when all are done. A second caller arriving while the pool is busy, or a chunk running a
     * pool of its own, runs its chunks on its own thread.
     */
    public void run(int count, Chunks body) {
        if (workers.length == 0 || count < 2 || inUse.isHeldByCurrentThread() || !inUse.tryLock()) {
            for (int c = 0; c < count; c++) {
                body.run(c);
            }
            return;
        }
        try {
            Product product = new Product(body, count);
            current = product;
            for (Thread worker : workers) {
                LockSupport.unpark(worker);
            }
            try {
                product.take();
            } finally {
                product.close();
            }
            Throwable failure = product.failure.get();
            if (failure instanceof RuntimeException e) {
                throw e;
            } else if (failure instanceof Error e) {
                throw e;
            } else if (failure != null) {
                throw new IllegalStateException(failure);
            }
        } finally {
            inUse.unlock();
        }
    }

    private void work() {
        Product done = null;
        while (true) {
            long idleSince = System.nanoTime();
            Product product;
            while ((product = current) == done) {
                if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.yield();
                } else {
                    LockSupport.park(this); // the next run() unparks every worker
                }
            }
            done = product;
            if (product.join()) {
                try {
                    product.take();
                } catch (Throwable t) {
                    product.fail(t);
                } finally {
                    product.leave();
                }
            }
        }
    }

    /** One run's chunks and who is working on them. */
    private static final class Product {

        private static final int CLOSED = 1 << 30;

        private final Chunks body;
        private final int count;
        private final AtomicInteger next = new AtomicInteger();
        /** Threads inside take(), plus CLOSED once the caller has finished its share: then nobody joins. */
        private final AtomicInteger state = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Product(Chunks body, int count) {
            this.body = body;
            this.count = count;
        }

        boolean join() {
            for (int s = state.get(); (s & CLOSED) == 0; s = state.get()) {
                if (state.compareAndSet(s, s + 1)) {
                    return true;
                }
            }
            return false;
        }

        void leave() {
            state.decrementAndGet();
        }

        void take() {
            for (int c = next.getAndIncrement(); c < count; c = next.getAndIncrement()) {
                body.run(c);
            }
        }

        void fail(Throwable t) {
            failure.compareAndSet(null, t);
            next.set(count); // the other threads stop taking chunks
        }

        /** Stops workers from joining and waits for those inside to finish their chunks. */
        void close() {
            next.set(count);
            int s = state.getAndUpdate(v -> v | CLOSED);
            while ((s & ~CLOSED) != 0) {
                Thread.onSpinWait();
                s = state.get();
            }
        }
    }
}
