package com.scratchgpt.generation;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import com.scratchgpt.generation.GenerationObserver.Failure;

/** Hands requests to the scheduler with their deadline, and reports each one to the observer. */
public class GenerationService {

    private final BatchScheduler scheduler;
    private final GenerationObserver observer;
    private final Duration timeout;

    /** @param timeout deadline of one request, queueing included */
    public GenerationService(BatchScheduler scheduler, GenerationObserver observer, Duration timeout) {
        this.scheduler = scheduler;
        this.observer = observer;
        this.timeout = timeout;
    }

    /** Blocks until the request is done; throws OverloadedException, DeadlineExceededException or CancellationException. */
    public GenerationResult generate(GenerationRequest request) {
        return await(submit(request, TokenListener.NONE));
    }

    /**
     * One forward pass over a prompt, showing what the model computes, under the same slots, queue and deadline as
     * generation; blocks until done and throws as {@link #generate} does.
     */
    public Inspection inspect(InspectionRequest request) {
        return await(scheduler.inspect(request, timeout.toNanos()));
    }

    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    /** Queues the request; the listener hears each token on the scheduler's thread and must not block. */
    public CompletableFuture<GenerationResult> submit(GenerationRequest request, TokenListener listener) {
        long start = System.nanoTime();
        long[] previous = {0};
        TokenListener measured = (index, token, text) -> {
            long now = System.nanoTime();
            if (index == 0) {
                observer.firstToken(Duration.ofNanos(now - start));
            } else {
                observer.interTokenLatency(Duration.ofNanos(now - previous[0]));
            }
            previous[0] = now;
            listener.onToken(index, token, text);
        };
        CompletableFuture<GenerationResult> future;
        try {
            future = scheduler.submit(request, measured, timeout.toNanos());
        } catch (OverloadedException e) {
            observer.requestFailed(Duration.ofNanos(System.nanoTime() - start), Failure.OVERLOADED);
            throw e;
        }
        future.whenComplete((result, error) -> {
            Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
            if (result != null) {
                observer.requestFinished(elapsed, request.promptTokens().length, result.generatedTokens().length,
                        result.finishReason());
            } else {
                observer.requestFailed(elapsed, Failure.of(error));
            }
        });
        return future;
    }

    private static RuntimeException unwrap(Throwable cause) {
        if (cause instanceof RuntimeException r) {
            return r;
        }
        return new IllegalStateException(cause);
    }
}
