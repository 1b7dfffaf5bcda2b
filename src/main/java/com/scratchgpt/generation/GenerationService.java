package com.scratchgpt.generation;

import java.time.Duration;

import org.springframework.stereotype.Service;

import com.scratchgpt.ops.GenerationMetrics;

/** Runs generation requests on the model and measures them. */
@Service
public class GenerationService {

    private final Generator generator;
    private final GenerationMetrics metrics;

    public GenerationService(Generator generator, GenerationMetrics metrics) {
        this.generator = generator;
        this.metrics = metrics;
    }

    public GenerationResult generate(GenerationRequest request, TokenListener listener) {
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
        GenerationResult result = generator.generate(request, measured);
        metrics.recordRequest(Duration.ofNanos(System.nanoTime() - start), request.promptTokens().length,
                result.generatedTokens().length, result.finishReason().value());
        return result;
    }
}
