package com.scratchgpt.api;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.generation.TokenListener;

/**
 * The generations one HTTP request started (OpenAI's prompts times {@code n}, or one for /generate). They
 * end together: the first that fails cancels the others, which would only be computed for nobody. A
 * cancelled generation leaves the scheduler, and gives its KV cache back, at the scheduler's next step.
 */
final class Generations {

    /**
     * How long past the generation deadline the container waits for an answer given later (a stream, or a
     * plain answer): the scheduler ends every generation at its deadline, queueing included, and the answer
     * with it; the container's timeout is a backstop, for a step that runs long.
     */
    private static final long BACKSTOP_MILLIS = 10_000;

    private final List<CompletableFuture<GenerationResult>> futures;
    private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    private final CompletableFuture<Void> ended;

    private Generations(List<CompletableFuture<GenerationResult>> futures) {
        this.futures = futures;
        // ended waits for these callbacks, not only for the futures: whoever sees it sees the first failure
        this.ended = CompletableFuture.allOf(futures.stream().map(f -> f.whenComplete((result, failure) -> {
            if (failure != null && firstFailure.compareAndSet(null, unwrap(failure))) {
                cancel("another generation of the same request ended early");
            }
        })).toArray(CompletableFuture[]::new));
    }

    /**
     * Queues one generation per request, the listener of generation {@code i} from {@code listeners}: all of
     * them, or none when the scheduler refuses them (429, thrown).
     */
    static Generations submit(GenerationService service, List<GenerationRequest> requests,
                              IntFunction<TokenListener> listeners) {
        return new Generations(service.submit(requests, listeners));
    }

    /** The container's timeout for an answer given later, for generations with this deadline. */
    static long answerTimeoutMillis(Duration generationTimeout) {
        return generationTimeout.toMillis() + BACKSTOP_MILLIS;
    }

    /**
     * Every result, in request order, once all have ended; if one failed, that first failure is thrown as
     * the scheduler gave it (DeadlineExceededException, CancellationException, ...).
     */
    List<GenerationResult> join() {
        try {
            ended.join();
        } catch (CompletionException | CancellationException e) {
            Throwable first = firstFailure.get();
            throw first instanceof RuntimeException r ? r : new IllegalStateException(first);
        }
        return futures.stream().map(CompletableFuture::join).toList();
    }

    /** Runs {@code action} once every generation has ended, however it ended. */
    void whenEnded(Runnable action) {
        ended.whenComplete((done, failure) -> action.run());
    }

    /** The same, off the thread that ended the last generation (the scheduler's, which must not wait). */
    void whenEndedAsync(Runnable action) {
        ended.whenCompleteAsync((done, failure) -> action.run());
    }

    /** Ends every generation still running, for this reason; those already done are left as they are. */
    void cancel(String reason) {
        cancel(futures, reason);
    }

    private static void cancel(List<CompletableFuture<GenerationResult>> futures, String reason) {
        CancellationException cancelled = new CancellationException(reason);
        futures.forEach(f -> f.completeExceptionally(cancelled));
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}
