package com.scratchgpt.generation;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.IntFunction;

import com.scratchgpt.generation.GenerationObserver.Failure;

/**
 * Hands requests to the scheduler with their deadline, reports each sequence to the observer, and says
 * what one request may ask.
 */
public class GenerationService {

    private final BatchScheduler scheduler;
    private final GenerationObserver observer;
    private final Duration timeout;
    private final RequestLimits limits;

    /**
     * @param timeout deadline of one request, queueing included
     * @param limits  what one request may ask
     */
    public GenerationService(BatchScheduler scheduler, GenerationObserver observer, Duration timeout,
                             RequestLimits limits) {
        this.scheduler = scheduler;
        this.observer = observer;
        this.timeout = timeout;
        this.limits = limits;
    }

    public RequestLimits limits() {
        return limits;
    }

    /**
     * One forward pass over a prompt, showing what the model computes, under the same slots, queue and deadline as
     * generation; blocks until done (an inspection is one short forward pass) and throws what the scheduler
     * ended it with: OverloadedException, DeadlineExceededException or CancellationException.
     */
    public Inspection inspect(InspectionRequest request) {
        CompletableFuture<Inspection> future = scheduler.inspect(request, timeout.toNanos());
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException failure ? failure : new IllegalStateException(e.getCause());
        }
    }

    /**
     * Queues the sequences of one request (at most {@link RequestLimits#maxSequences}), all or none: throws
     * OverloadedException when they would not all find a place. Listener {@code i} hears sequence {@code i}'s
     * tokens on the scheduler's thread and must not block.
     */
    public List<CompletableFuture<GenerationResult>> submit(List<GenerationRequest> requests,
                                                            IntFunction<TokenListener> listeners) {
        long start = System.nanoTime();
        List<CompletableFuture<GenerationResult>> futures;
        try {
            futures = scheduler.submit(requests, i -> measured(start, listeners.apply(i)), timeout.toNanos());
        } catch (OverloadedException e) {
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            requests.forEach(r -> observer.requestFailed(elapsed, Failure.OVERLOADED));
            throw e;
        }
        for (int i = 0; i < futures.size(); i++) {
            GenerationRequest request = requests.get(i);
            futures.get(i).whenComplete((result, error) -> {
                Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
                if (result != null) {
                    observer.requestFinished(elapsed, request.promptTokens().length, result.generatedTokens().length,
                            result.finishReason());
                } else {
                    observer.requestFailed(elapsed, Failure.of(error));
                }
            });
        }
        return futures;
    }

    /** The listener, timing the first token and the gaps between tokens for the observer. */
    private TokenListener measured(long start, TokenListener listener) {
        long[] previous = {0};
        return (index, token, text) -> {
            long now = System.nanoTime();
            if (index == 0) {
                observer.firstToken(Duration.ofNanos(now - start));
            } else {
                observer.interTokenLatency(Duration.ofNanos(now - previous[0]));
            }
            previous[0] = now;
            listener.onToken(index, token, text);
        };
    }
}
