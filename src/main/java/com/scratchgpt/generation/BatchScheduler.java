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
import java.util.function.IntFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.scratchgpt.model.Activations;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.KVCache;
import com.scratchgpt.model.KVCachePool;
import com.scratchgpt.model.SequenceChunk;
import com.scratchgpt.model.Tensor;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * Continuous batching: one thread owns the model, and every step runs one forward pass for all the
 * sequences in flight together: a decode position for each generating sequence (so each weight is read
 * once for all of them) plus a chunk of any prompt still being read. Waiting requests are admitted
 * between steps, fairly between requests ({@link FairQueue}), finished ones leave at once. Each sequence
 * keeps its own KV cache (a range of one pool allocated at start), sampler and seed, so its result does
 * not depend on its company. A sequence that scores its prompt also gets the logits of its prompt's positions
 * from the step that reads them, the output head run over those rows only.
 * An inspection ({@link #inspect}) claims a slot like a request of one sequence, takes its KV positions and
 * runs whole between two steps; while sequences are generating, inspections get at most half of the thread's time.
 */
public final class BatchScheduler implements AutoCloseable {

    /**
     * @param maxConcurrent      sequences admitted (holding a KV cache) at once
     * @param maxBatch           sequences in one forward pass
     * @param maxQueue           sequences waiting for admission; beyond it, submit refuses
     * @param kvCacheTokens      KV-cache positions shared by all admitted sequences
     * @param prefillChunk       prompt tokens read per step, so that decoding sequences are never starved
     * @param maxRequestSlots    sequences of one request admitted at once; its others wait their turn
     * @param maxRequestKvTokens KV-cache positions the admitted sequences of one request may hold together
     */
    public record Limits(int maxConcurrent, int maxBatch, int maxQueue, int kvCacheTokens, int prefillChunk,
                         int maxRequestSlots, int maxRequestKvTokens) {

        /** Limits under which one request may hold every slot and the whole KV cache. */
        public Limits(int maxConcurrent, int maxBatch, int maxQueue, int kvCacheTokens, int prefillChunk) {
            this(maxConcurrent, maxBatch, maxQueue, kvCacheTokens, prefillChunk, maxConcurrent, kvCacheTokens);
        }

        /**
         * These limits with one request holding at most {@code share} of the slots and of the KV cache, never
         * less than one slot and one full context (so that every sequence can run).
         */
        public Limits withRequestShare(double share, int contextLength) {
            int slots = Math.max(1, (int) (share * maxConcurrent));
            int kvTokens = Math.min(kvCacheTokens, Math.max(contextLength, (int) (share * kvCacheTokens)));
            return new Limits(maxConcurrent, maxBatch, maxQueue, kvCacheTokens, prefillChunk, slots, kvTokens);
        }
    }

    /**
     * What the scheduler holds now, read at once.
     *
     * @param running          sequences generating
     * @param waiting          sequences waiting for a slot
     * @param slotsClaimed     generation slots the requests in flight claim (their sequences up to their share)
     * @param slots            generation slots there are
     * @param queuePlacesTaken queue places the requests in flight take (beyond their share or the slots)
     * @param queuePlaces      queue places there are
     */
    public record Occupancy(int running, int waiting, int slotsClaimed, int slots, int queuePlacesTaken,
                            int queuePlaces) {
    }

    /**
     * The length of the chunks a window is recomputed in (sequences past the context), alone or in company: the
     * same length always, so that a sequence's bits do not depend on what runs beside it. Measured on
     * GPT-2 small (Bench --past-context: 4 decoding rows plus R rows attending to a full window, medians of 7,
     * on a busy machine): the step costs 2.8x the 4-row step with 16 rows, 4.8x with 32, 5.5x with 64, 6.5x
     * with 128, 27x with 512. A recomputed token (1024 rows) costs as much in all in 128-row chunks as in
     * 512-row ones (8 x 6.5 against 2 x 27 steps' worth) while each neighbour's step is 4x shorter; smaller
     * chunks cost more in all (32 x 4.8), each step reading every weight again for few rows.
     */
    public static final int RECOMPUTE_ROWS_IN_COMPANY = 128;

    /**
     * Prompt positions whose logits one output-head product computes when a prompt is scored; their (rows, vocab)
     * floats are held at once, 25.7 MB for GPT-2's vocabulary, allocated when the first prompt is scored. sgemm packs
     * the whole (vocab, emb) matrix for each product, which few rows do not repay. Measured on GPT-2 small (Bench
     * --score: the head over the 511 scored positions of a 512-token step, two runs on a machine at load 7 to 15),
     * ratio to the GEMM peak of the same run: products of 16 rows 0.26 and 0.39, 64 rows 0.58 and 0.87, 128 rows 0.65
     * and 1.15, 256 rows 0.98 and 1.04; 256 rows would hold twice the memory for no gain the noise lets one see.
     */
    static final int PROMPT_LOGIT_ROWS = 128;

    private static final Logger log = LoggerFactory.getLogger(BatchScheduler.class);

    private final GPTModel model;
    private final GPT2Tokenizer tokenizer;
    private final Limits limits;
    private final GenerationObserver observer;
    private final KVCachePool pool;
    private final Activations act;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final FairQueue queue;                             // guarded by lock
    private final ArrayDeque<QueuedInspection> inspections = new ArrayDeque<>(); // guarded by lock
    private final Inspector inspector;
    private Tensor promptLogits; // (PROMPT_LOGIT_ROWS, vocab), allocated for the first prompt scored; scheduler thread only
    private final List<Sequence> running = new ArrayList<>();  // scheduler thread only
    private final Thread thread;
    private volatile boolean stopped;
    private volatile int runningCount;
    private int cursor; // rotates which running sequences go first when more are running than fit a step
    private long inspectionDebtNanos; // steps still owed to the running sequences for the last inspection's time

    /** An inspection waiting for the scheduler's thread. */
    private record QueuedInspection(InspectionRequest request, long deadlineNanos, CompletableFuture<Inspection> result) {
    }

    public BatchScheduler(GPTModel model, GPT2Tokenizer tokenizer, Limits limits, GenerationObserver observer) {
        int ctx = model.config().contextLength();
        if (limits.kvCacheTokens() < ctx || limits.maxRequestKvTokens() < ctx) {
            throw new IllegalArgumentException("the KV cache, and a request's share of it, must hold at least one"
                    + " full context (" + ctx + " positions), got " + limits.kvCacheTokens() + " and "
                    + limits.maxRequestKvTokens());
        }
        if (limits.maxRequestSlots() < 1 || limits.maxRequestSlots() > limits.maxConcurrent()) {
            throw new IllegalArgumentException("a request's slots must be 1 to " + limits.maxConcurrent() + ", got "
                    + limits.maxRequestSlots());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.limits = limits;
        this.observer = observer;
        this.queue = new FairQueue(limits);
        this.pool = new KVCachePool(model.config(), limits.kvCacheTokens());
        this.act = new Activations(model.config(), limits.maxBatch() + Math.max(limits.prefillChunk(), ctx),
                limits.maxBatch());
        this.inspector = new Inspector(model, tokenizer);
        this.thread = new Thread(this::run, "gpt-scheduler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Queues a request of one sequence; the future completes with its result, or exceptionally on deadline or cancel. */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, TokenListener listener,
                                                      long timeoutNanos) {
        return submit(List.of(request), i -> listener, timeoutNanos).get(0);
    }

    /**
     * Queues the sequences of one request (held together to the request's share), sequence {@code i} heard by
     * {@code listeners.apply(i)}; all are queued or, when they would not all find a place, none (429).
     */
    public List<CompletableFuture<GenerationResult>> submit(List<GenerationRequest> requests,
                                                            IntFunction<TokenListener> listeners, long timeoutNanos) {
        if (requests.size() > maxSequencesPerRequest()) {
            throw new IllegalArgumentException(requests.size() + " sequences in one request; at most "
                    + maxSequencesPerRequest() + " can ever be held");
        }
        SequenceGroup group = new SequenceGroup();
        long deadline = System.nanoTime() + timeoutNanos;
        List<Sequence> sequences = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            sequences.add(new Sequence(requests.get(i), group, model.config().contextLength(), tokenizer,
                    listeners.apply(i), deadline));
        }
        // maxNewTokens 0 and no prompt to score: nothing to run
        List<Sequence> toRun = sequences.stream().filter(seq -> !seq.finished()).toList();
        if (!toRun.isEmpty()) {
            lock.lock();
            try {
                if (stopped) {
                    throw new OverloadedException("the service is shutting down", 5);
                }
                queue.offer(toRun);
                work.signal();
            } finally {
                lock.unlock();
            }
        }
        sequences.stream().filter(Sequence::finished).forEach(seq -> seq.result.complete(seq.toResult()));
        return sequences.stream().map(seq -> seq.result).toList();
    }

    /**
     * Queues one inspection; the future completes with it, or exceptionally on deadline or cancel. It claims a
     * slot as a request of one sequence does, so it counts against the same slots and queue as generation.
     */
    public CompletableFuture<Inspection> inspect(InspectionRequest request, long timeoutNanos) {
        inspector.check(request);
        QueuedInspection item = new QueuedInspection(request, System.nanoTime() + timeoutNanos, new CompletableFuture<>());
        lock.lock();
        try {
            if (stopped) {
                throw new OverloadedException("the service is shutting down", 5);
            }
            queue.claimSlot();
            inspections.add(item);
            work.signal();
        } finally {
            lock.unlock();
        }
        return item.result();
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
            return queue.size() + inspections.size();
        } finally {
            lock.unlock();
        }
    }

    /** The most sequences one request may submit: its share of the slots running, the rest in the queue. */
    public int maxSequencesPerRequest() {
        return limits.maxRequestSlots() + limits.maxQueue();
    }

    public Occupancy occupancy() {
        lock.lock();
        try {
            return new Occupancy(runningCount, queue.size() + inspections.size(), queue.slotsClaimed(), limits.maxConcurrent(),
                    queue.queuePlacesTaken(), limits.maxQueue());
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
                runInspection();
                if (!admit()) {
                    continue;
                }
                long stepStart = System.nanoTime();
                step();
                inspectionDebtNanos -= System.nanoTime() - stepStart;
            } catch (RuntimeException | Error e) {
                log.error("generation step failed; failing the sequences in it", e);
                for (Sequence s : running) {
                    s.result.completeExceptionally(e);
                }
                retire();
            }
        }
    }

    /**
     * Moves waiting sequences into the running set while there is room, in the fair queue's order; false
     * when there is nothing to run.
     */
    private boolean admit() {
        lock.lock();
        try {
            while (running.isEmpty() && queue.size() == 0 && inspections.isEmpty() && !stopped) {
                work.awaitUninterruptibly();
            }
            queue.expire(System.nanoTime());
            while (running.size() < limits.maxConcurrent()) {
                Sequence seq = queue.next();
                if (seq == null) {
                    break; // every waiting request holds its share
                }
                KVCache cache = pool.allocate(seq.cacheCapacity());
                if (cache == null) {
                    break; // wait for a running sequence to give positions back; the next in line stays first
                }
                boolean first = seq.attach(cache);
                queue.admitted(seq);
                running.add(seq);
                if (first) {
                    observer.requestAdmitted(Duration.ofNanos(System.nanoTime() - seq.submittedNanos));
                }
            }
            runningCount = running.size();
            if (running.isEmpty() && queue.size() > 0) {
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

    /**
     * Runs the first queued inspection when a slot and its KV positions are free, whole, between two steps;
     * drops those past their deadline or cancelled. While sequences are running, one runs only once they have had as
     * much time for their steps as the inspection before it took: an inspection of a long prompt lasts seconds, and
     * back-to-back ones would otherwise leave the running sequences one token each.
     */
    private void runInspection() {
        QueuedInspection item;
        KVCache cache;
        lock.lock();
        try {
            long now = System.nanoTime();
            inspections.removeIf(i -> {
                if (now - i.deadlineNanos() > 0) {
                    i.result().completeExceptionally(new DeadlineExceededException("the inspection waited past its deadline"));
                }
                if (i.result().isDone()) {
                    queue.releaseSlot();
                    return true;
                }
                return false;
            });
            item = inspections.peek();
            if (item == null || running.size() >= limits.maxConcurrent()
                    || (!running.isEmpty() && inspectionDebtNanos > 0)) {
                return;
            }
            cache = pool.allocate(item.request().tokens().length);
            if (cache == null) {
                return; // wait for running sequences to give positions back
            }
            inspections.poll();
        } finally {
            lock.unlock();
        }
        runningCount = running.size() + 1;
        long start = System.nanoTime();
        Inspection result = null;
        RuntimeException failure = null;
        try {
            result = inspector.inspect(item.request(), cache, act);
        } catch (RuntimeException e) {
            log.error("inspection failed", e);
            failure = e;
        } finally {
            pool.release(cache);
            runningCount = running.size();
            inspectionDebtNanos = System.nanoTime() - start;
            lock.lock();
            try {
                queue.releaseSlot();
            } finally {
                lock.unlock();
            }
        }
        if (failure != null) {
            item.result().completeExceptionally(failure);
        } else {
            item.result().complete(result);
        }
    }

    /**
     * One forward pass over (up to maxBatch of) the running sequences: a row for each decoding sequence, and
     * whole chunks of prompts up to the prefill budget: prefill-chunk tokens of a prompt, or
     * {@link #RECOMPUTE_ROWS_IN_COMPANY} rows of a window recomputed past the context.
     */
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
            boolean recomputing = seq.recomputing();
            // a chunk's bits depend on its length, so a sequence reads its prompt, or recomputes its window, in
            // chunks of one length whatever runs beside it: prefillChunk tokens, or RECOMPUTE_ROWS_IN_COMPANY rows
            // (which keep a neighbour's step short, and cost little more when alone)
            int wanted = Math.min(pending, recomputing ? Math.min(RECOMPUTE_ROWS_IN_COMPANY, prefillBudget) : prefillBudget);
            if (pending > 1 && prefillRows + wanted > prefillBudget) {
                continue; // this step's prompt budget is spent: the chunk goes whole at a next step
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
            scorePrompts(batch, chunks);
            int vocab = model.config().vocabSize();
            for (int i = 0; i < batch.size(); i++) {
                Sequence seq = batch.get(i);
                if (seq.finished() || !seq.readyToSample()) {
                    continue; // a prompt chunk that is not the last (its logits predict nothing yet), or a scored prompt
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
        yieldSlidWindows();
        observer.stepRan(batch.size(), rows, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * Hands the sequences that score their prompt the logits of the prompt positions this step read: the output head
     * over those rows of the step, {@link #PROMPT_LOGIT_ROWS} at a time. Only they pay for it; every other sequence
     * gets the head at its last position only.
     */
    private void scorePrompts(List<Sequence> batch, List<SequenceChunk> chunks) {
        int vocab = model.config().vocabSize();
        for (int i = 0; i < batch.size(); i++) {
            Sequence seq = batch.get(i);
            int rows = seq.result.isDone() ? 0 : seq.promptRowsToScore(chunks.get(i).tokens().length);
            for (int r = 0; r < rows; r += PROMPT_LOGIT_ROWS) {
                int n = Math.min(PROMPT_LOGIT_ROWS, rows - r);
                if (promptLogits == null) {
                    promptLogits = model.logitLensBuffer(PROMPT_LOGIT_ROWS);
                }
                model.positionLogits(act, i, r, n, promptLogits); // (n, vocab)
                seq.acceptPromptLogits(promptLogits.buffer(), n, vocab);
            }
        }
    }

    /**
     * Past the context a sequence's cache holds nothing it will read again once it has taken its token, so
     * while others wait for a slot or for KV-cache positions, such sequences give theirs back at no cost and
     * queue again behind them: a newcomer does not wait for whole runs of tokens past the context to end.
     */
    private void yieldSlidWindows() {
        List<Sequence> slid = running.stream().filter(seq -> !seq.result.isDone() && seq.windowSlid()).toList();
        if (slid.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            if (queue.next() == null) {
                return; // nobody waits who could take the place
            }
            for (Sequence seq : slid) {
                pool.release(seq.cache());
                queue.requeued(seq);
                seq.detach();
                running.remove(seq);
            }
            runningCount = running.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Removes finished, cancelled and expired sequences and gives their caches back, before their
     * futures complete: whoever sees a result sees its resources free.
     */
    private void retire() {
        long now = System.nanoTime();
        List<Runnable> completions = new ArrayList<>();
        List<Sequence> retired = new ArrayList<>();
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
            retired.add(seq);
            it.remove();
        }
        if (!retired.isEmpty()) {
            lock.lock();
            try {
                retired.forEach(queue::released);
                runningCount = running.size();
            } finally {
                lock.unlock();
            }
        }
        completions.forEach(Runnable::run);
    }

    /** Stops taking requests and cancels whatever is still queued or running. */
    @Override
    public void close() {
        stopped = true;
        lock.lock();
        try {
            work.signalAll();
            queue.cancelAll("the service is shutting down");
            inspections.forEach(i -> i.result().completeExceptionally(new CancellationException("the service is shutting down")));
            inspections.clear();
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
