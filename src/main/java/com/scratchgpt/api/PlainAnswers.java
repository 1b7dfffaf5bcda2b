package com.scratchgpt.api;

import java.util.List;
import java.util.function.Function;

import org.springframework.stereotype.Component;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;
import org.springframework.web.context.request.async.DeferredResult;

import com.scratchgpt.GptProperties;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.generation.TokenListener;

/**
 * The one way generations are answered whole (/generate, /v1/completions without {@code stream}), the
 * sibling of {@link EventStream}: no thread waits for the generations, and a client that goes away cancels
 * them, as a stream's does, so the scheduler frees their KV cache at its next step. The answer is the
 * endpoint's reply of the results, or the first failure as ProblemHandler answers it (503 at the deadline,
 * ...), with the same status as when a thread waited for it.
 */
@Component
class PlainAnswers {

    private final GenerationService generation;
    private final ClientConnections connections;
    private final long timeoutMillis;

    PlainAnswers(GenerationService generation, ClientConnections connections, GptProperties properties) {
        this.generation = generation;
        this.connections = connections;
        this.timeoutMillis = Generations.answerTimeoutMillis(properties.generation().timeout());
    }

    /**
     * Starts the requests' generations and answers the current request with {@code reply} of their results
     * once all have ended. Throws OverloadedException (429) when the scheduler refuses them.
     */
    <T> DeferredResult<T> open(List<GenerationRequest> requests, Function<List<GenerationResult>, T> reply) {
        Generations generations = Generations.submit(generation, requests, i -> TokenListener.NONE);
        Runnable unwatch = connections.watch(((ServletRequestAttributes) RequestContextHolder.currentRequestAttributes())
                .getRequest(), () -> generations.cancel("the client closed its connection"));
        generations.whenEnded(unwatch);
        DeferredResult<T> answer = new DeferredResult<>(timeoutMillis);
        // should the container report the client gone, or its backstop timeout pass, nobody waits any more
        answer.onError(e -> generations.cancel("the client went away"));
        answer.onTimeout(() -> generations.cancel("the answer timed out"));
        generations.whenEndedAsync(() -> {
            try {
                answer.setResult(reply.apply(generations.join()));
            } catch (RuntimeException e) {
                answer.setErrorResult(e);
            }
        });
        return answer;
    }
}
