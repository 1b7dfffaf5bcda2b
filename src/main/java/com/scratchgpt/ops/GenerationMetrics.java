package com.scratchgpt.ops;

import java.time.Duration;

import org.springframework.stereotype.Component;

import com.scratchgpt.ServedModel;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** Every metric the service publishes, in one place (names as in the public contract). */
@Component
public class GenerationMetrics {

    private final Timer duration;
    private final Timer timeToFirstToken;
    private final Timer timePerOutputToken;
    private final Counter generatedTokens;
    private final Counter promptTokens;
    private final MeterRegistry registry;

    public GenerationMetrics(MeterRegistry registry, ServedModel served) {
        this.registry = registry;
        Gauge.builder("gpt.model.parameters", served, s -> s.model().parameters().values().stream()
                        .mapToLong(t -> t.length()).sum())
                .description("Parameters of the loaded model, each tensor once").register(registry);
        Gauge.builder("gpt.model.memory", served, s -> s.model().parameterBytes())
                .description("Bytes the loaded weights occupy (off-heap)").baseUnit("bytes").register(registry);
        this.duration = Timer.builder("gpt.generation.duration")
                .description("Time to serve one generation request, queueing included")
                .publishPercentiles(0.5, 0.9, 0.95, 0.99).publishPercentileHistogram().register(registry);
        this.timeToFirstToken = Timer.builder("gpt.generation.time.to.first.token")
                .description("Time from request to its first generated token")
                .publishPercentiles(0.5, 0.9, 0.95, 0.99).publishPercentileHistogram().register(registry);
        this.timePerOutputToken = Timer.builder("gpt.generation.time.per.output.token")
                .description("Time between consecutive generated tokens of a request")
                .publishPercentiles(0.5, 0.9, 0.95, 0.99).publishPercentileHistogram().register(registry);
        this.generatedTokens = Counter.builder("gpt.generation.tokens")
                .description("Tokens generated").baseUnit("tokens").register(registry);
        this.promptTokens = Counter.builder("gpt.generation.prompt.tokens")
                .description("Prompt tokens processed").baseUnit("tokens").register(registry);
    }

    /** One finished request. */
    public void recordRequest(Duration elapsed, int prompt, int generated, String finishReason) {
        duration.record(elapsed);
        promptTokens.increment(prompt);
        generatedTokens.increment(generated);
        registry.counter("gpt.generation.requests", "finish_reason", finishReason).increment();
    }

    public void recordFirstToken(Duration sinceRequest) {
        timeToFirstToken.record(sinceRequest);
    }

    public void recordInterTokenLatency(Duration sincePreviousToken) {
        timePerOutputToken.record(sincePreviousToken);
    }

    public MeterRegistry registry() {
        return registry;
    }
}
