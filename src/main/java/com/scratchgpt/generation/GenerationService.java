package com.scratchgpt.generation;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import org.springframework.stereotype.Service;

import com.scratchgpt.GptProperties;
import com.scratchgpt.ops.GenerationMetrics;

/** Hands requests to the scheduler with their deadline, and measures them. */
@Service
public class GenerationService {

    private final BatchScheduler scheduler;
    private final GenerationMetrics metrics;
    private final Duration timeout;

    public GenerationService(BatchScheduler scheduler, GenerationMetrics metrics, GptProperties properties) {
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.timeout = properties.generation().timeout();
    }

    /** Blocks until the request is done; throws OverloadedException, DeadlineExceededException or CancellationException. */
    public GenerationResult generate(GenerationRequest request) {
        CompletableFuture<GenerationResult> future = submit(request, TokenListener.NONE);
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
                metrics.recordFirstToken(Duration.ofNanos(now - start));
            } else {
                metrics.recordInterTokenLatency(Duration.ofNanos(now - previous[0]));
            }
            previous[0] = now;
            listener.onToken(index, token, text);
        };
        CompletableFuture<GenerationResult> future;
        try {
            future = scheduler.submit(request, measured, timeout.toNanos());
        } catch (OverloadedException e) {
            metrics.recordFailure("overloaded");
            throw e;
        }
        future.whenComplete((result, error) -> {
            if (result != null) {
                metrics.recordRequest(Duration.ofNanos(System.nanoTime() - start), request.promptTokens().length,
                        result.generatedTokens().length, result.finishReason().value());
            } else {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                metrics.recordFailure(cause instanceof DeadlineExceededException ? "deadline"
                        : cause instanceof CancellationException ? "cancelled" : "error");
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
