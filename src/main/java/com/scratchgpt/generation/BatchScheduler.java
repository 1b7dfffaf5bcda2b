package com.scratchgpt.generation;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.scratchgpt.model.Activations;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.KVCache;
import com.scratchgpt.model.KVCachePool;
import com.scratchgpt.model.SequenceChunk;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * Continuous batching: one thread owns the model, and every step runs one forward pass for all the
 * sequences in flight together: a decode position for each generating sequence (so each weight is read
 * once for all of them) plus a chunk of any prompt still being read. Waiting requests are admitted
 * between steps, finished ones leave at once. Each sequence keeps its own KV cache (a range of one pool
 * allocated at start), sampler and seed, so its result does not depend on its company.
 */
public final class BatchScheduler implements AutoCloseable {

    /**
     * @param maxConcurrent  sequences admitted (holding a KV cache) at once
     * @param maxBatch       sequences in one forward pass
     * @param maxQueue       requests waiting for admission; beyond it, submit refuses
     * @param kvCacheTokens  KV-cache positions shared by all admitted sequences
     * @param prefillChunk   prompt tokens read per step, so that decoding sequences are never starved
     */
    public record Limits(int maxConcurrent, int maxBatch, int maxQueue, int kvCacheTokens, int prefillChunk) {
    }

    private static final Logger log = LoggerFactory.getLogger(BatchScheduler.class);

    private final GPTModel model;
    private final GPT2Tokenizer tokenizer;
    private final Limits limits;
    private final GenerationObserver observer;
    private final KVCachePool pool;
    private final Activations act;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>(); // guarded by lock
    private final List<Sequence> running = new ArrayList<>();         // scheduler thread only
    private final Thread thread;
    private volatile boolean stopped;
    private volatile int runningCount;
    private int cursor; // rotates which running sequences go first when more are running than fit a step

    public BatchScheduler(GPTModel model, GPT2Tokenizer tokenizer, Limits limits, GenerationObserver observer) {
        int ctx = model.config().contextLength();
        if (limits.kvCacheTokens() < ctx) {
            throw new IllegalArgumentException("the KV cache must hold at least one full context (" + ctx
                    + " positions), got " + limits.kvCacheTokens());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.limits = limits;
        this.observer = observer;
        this.pool = new KVCachePool(model.config(), limits.kvCacheTokens());
        this.act = new Activations(model.config(), limits.maxBatch() + Math.max(limits.prefillChunk(), ctx),
                limits.maxBatch());
        this.thread = new Thread(this::run, "gpt-scheduler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Queues a request; the future completes with its result, or exceptionally on deadline or cancel. */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, TokenListener listener,
                                                      long timeoutNanos) {
        Sequence seq = new Sequence(request, model.config().contextLength(), tokenizer, listener,
                System.nanoTime() + timeoutNanos);
        if (seq.finished()) { // maxNewTokens 0: nothing to run
            seq.result.complete(seq.toResult());
            return seq.result;
        }
        lock.lock();
        try {
            if (stopped) {
                throw new OverloadedException("the service is shutting down", 5);
            }
            if (runningCount + waiting.size() >= limits.maxConcurrent() + limits.maxQueue()) {
                throw new OverloadedException("all " + limits.maxConcurrent() + " generation slots and "
                        + limits.maxQueue() + " queue places are taken", 1);
            }
            waiting.add(seq);
            work.signal();
        } finally {
            lock.unlock();
        }
        return seq.result;
    }

    /** Runs one request to the end on the calling thread's behalf. */
    public GenerationResult generate(GenerationRequest request) {
        return submit(request, TokenListener.NONE, TimeUnit.HOURS.toNanos(1)).join();
    }

    public int running() {
        return runningCount;
    }

    public int waiting() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /** KV-cache positions borrowed by running sequences. */
    public int kvCacheUsed() {
        return pool.used();
    }

    public long kvCacheBytes() {
        return pool.sizeBytes();
    }

    private void run() {
        while (!stopped) {
            try {
                if (!admit()) {
                    continue;
                }
                step();
            } catch (RuntimeException | Error e) {
                log.error("generation step failed; failing the sequences in it", e);
                for (Sequence s : running) {
                    s.result.completeExceptionally(e);
                }
                retire();
            }
        }
    }

    /** Moves waiting requests into the running set while there is room; false when there is nothing to run. */
    private boolean admit() {
        lock.lock();
        try {
            while (running.isEmpty() && waiting.isEmpty() && !stopped) {
                work.awaitUninterruptibly();
            }
            Iterator<Sequence> it = waiting.iterator();
            while (it.hasNext() && running.size() < limits.maxConcurrent()) {
                Sequence seq = it.next();
                if (seq.result.isDone()) { // cancelled while waiting
                    it.remove();
                    continue;
                }
                KVCache cache = pool.allocate(seq.cacheCapacity());
                if (cache == null) {
                    break; // wait for a running sequence to give positions back; keep arrival order
                }
                it.remove();
                seq.attach(cache);
                running.add(seq);
                observer.requestAdmitted(Duration.ofNanos(System.nanoTime() - seq.submittedNanos));
            }
            expireWaiting();
            runningCount = running.size();
            if (running.isEmpty() && !waiting.isEmpty()) {
                // nothing could be admitted: wait for a change rather than spin
                try {
                    work.awaitNanos(TimeUnit.MILLISECONDS.toNanos(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return !running.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    private void expireWaiting() {
        long now = System.nanoTime();
        waiting.removeIf(seq -> {
            if (now - seq.deadlineNanos > 0) {
                seq.result.completeExceptionally(new DeadlineExceededException("the request waited past its deadline"));
                return true;
            }
            return seq.result.isDone();
        });
    }

    /** One forward pass over (up to maxBatch of) the running sequences. */
    private void step() {
        long start = System.nanoTime();
        List<Sequence> batch = new ArrayList<>(Math.min(running.size(), limits.maxBatch()));
        List<SequenceChunk> chunks = new ArrayList<>(batch.size());
        int rows = 0;
        int prefillRows = 0;
        int prefillBudget = Math.max(limits.prefillChunk(), 1);
        for (int i = 0; i < running.size() && batch.size() < limits.maxBatch(); i++) {
            Sequence seq = running.get((cursor + i) % running.size());
            if (seq.result.isDone()) {
                continue; // cancelled: retired below
            }
            int pending = seq.pendingTokens();
            int wanted = Math.min(pending, prefillBudget);
            if (pending > 1 && prefillRows + wanted > prefillBudget) {
                // a prompt is read in whole chunks of prefillChunk tokens, whatever runs beside it: a chunk's
                // bits depend on its length, so a shorter one here would change the sequence's results
                continue;
            }
            SequenceChunk chunk = seq.nextChunk(wanted);
            if (pending > 1) {
                prefillRows += chunk.tokens().length;
            }
            rows += chunk.tokens().length;
            batch.add(seq);
            chunks.add(chunk);
        }
        cursor = running.isEmpty() ? 0 : (cursor + 1) % running.size();
        if (!chunks.isEmpty()) {
            model.forward(chunks, act);
            int vocab = model.config().vocabSize();
            for (int i = 0; i < batch.size(); i++) {
                Sequence seq = batch.get(i);
                if (!seq.readyToSample()) {
                    continue; // a prompt chunk that is not the last: its logits predict nothing yet
                }
                try {
                    seq.accept(act.logits().buffer(), i * vocab, vocab);
                } catch (RuntimeException e) { // a listener whose client went away
                    seq.result.completeExceptionally(e instanceof CancellationException ? e
                            : new CancellationException(String.valueOf(e.getMessage())));
                }
            }
        }
        retire();
        observer.stepRan(batch.size(), rows, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * Removes finished, cancelled and expired sequences and gives their caches back, before their
     * futures complete: whoever sees a result sees its resources free.
     */
    private void retire() {
        long now = System.nanoTime();
        List<Runnable> completions = new ArrayList<>();
        Iterator<Sequence> it = running.iterator();
        while (it.hasNext()) {
            Sequence seq = it.next();
            if (seq.finished()) {
                GenerationResult result = seq.toResult();
                completions.add(() -> seq.result.complete(result));
            } else if (!seq.result.isDone() && now - seq.deadlineNanos > 0) {
                int generated = seq.generatedCount();
                completions.add(() -> seq.result.completeExceptionally(new DeadlineExceededException(
                        "generation passed its deadline after " + generated + " tokens")));
            } else if (!seq.result.isDone()) {
                continue;
            }
            pool.release(seq.cache());
            it.remove();
        }
        runningCount = running.size();
        completions.forEach(Runnable::run);
    }

    /** Stops taking requests and cancels whatever is still queued or running. */
    @Override
    public void close() {
        stopped = true;
        lock.lock();
        try {
            work.signalAll();
            for (Sequence s : waiting) {
                s.result.completeExceptionally(new CancellationException("the service is shutting down"));
            }
            waiting.clear();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Sequence s : running) {
            s.result.completeExceptionally(new CancellationException("the service is shutting down"));
        }
    }
}
