package com.scratchgpt.ops;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

import org.springframework.stereotype.Component;

import com.scratchgpt.generation.FinishReason;
import com.scratchgpt.generation.GenerationObserver;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * What generation reports, as metrics (names as in the public contract, the rest after what TGI and
 * vLLM publish): request latency by outcome, time to first token, time per output token, queue time,
 * token counters, and what each batched step did. The gauges are {@link ServingGauges}.
 */
@Component
class GenerationMetrics implements GenerationObserver {

    private static final double[] PERCENTILES = {0.5, 0.9, 0.95, 0.99};
    private static final String DURATION = "gpt.generation.duration";
    private static final String DURATION_DESCRIPTION = "Time to serve one generation request, queueing included";

    private final MeterRegistry registry;
    private final Timer succeeded;
    private final Map<Failure, Timer> failed = new EnumMap<>(Failure.class);
    private final Timer timeToFirstToken;
    private final Timer timePerOutputToken;
    private final Timer queueTime;
    private final Timer stepDuration;
    private final DistributionSummary batchSize;
    private final DistributionSummary tokensPerStep;
    private final Counter generatedTokens;
    private final Counter promptTokens;

    GenerationMetrics(MeterRegistry registry) {
        this.registry = registry;
        // one sample per request, whatever its end: the outcome tag tells the failures apart
        this.succeeded = timer(DURATION, DURATION_DESCRIPTION, "outcome", "success");
        for (Failure f : Failure.values()) {
            failed.put(f, timer(DURATION, DURATION_DESCRIPTION, "outcome", f.value()));
        }
        this.timeToFirstToken = timer("gpt.generation.time.to.first.token", "Time from request to its first token");
        this.timePerOutputToken = timer("gpt.generation.time.per.output.token", "Time between a request's tokens");
        this.queueTime = timer("gpt.generation.queue.time", "Time a request waited for a generation slot");
        this.stepDuration = timer("gpt.batch.step.duration", "Time of one batched forward pass");
        this.batchSize = DistributionSummary.builder("gpt.batch.size").description("Sequences in one forward pass")
                .publishPercentiles(PERCENTILES).register(registry);
        this.tokensPerStep = DistributionSummary.builder("gpt.batch.tokens").description("Tokens in one forward pass")
                .baseUnit("tokens").publishPercentiles(PERCENTILES).register(registry);
        this.generatedTokens = Counter.builder("gpt.generation.tokens")
                .description("Tokens generated").baseUnit("tokens").register(registry);
        this.promptTokens = Counter.builder("gpt.generation.prompt.tokens")
                .description("Prompt tokens received").baseUnit("tokens").register(registry);
    }

    private Timer timer(String name, String description, String... tags) {
        return Timer.builder(name).description(description).tags(tags).publishPercentiles(PERCENTILES)
                .publishPercentileHistogram().register(registry);
    }

    @Override
    public void requestAdmitted(Duration queued) {
        queueTime.record(queued);
    }

    @Override
    public void stepRan(int sequences, int tokens, Duration elapsed) {
        batchSize.record(sequences);
        tokensPerStep.record(tokens);
        stepDuration.record(elapsed);
    }

    @Override
    public void firstToken(Duration sinceSubmitted) {
        timeToFirstToken.record(sinceSubmitted);
    }

    @Override
    public void interTokenLatency(Duration sincePrevious) {
        timePerOutputToken.record(sincePrevious);
    }

    @Override
    public void requestFinished(Duration elapsed, int prompt, int generated, FinishReason reason) {
        succeeded.record(elapsed);
        promptTokens.increment(prompt);
        generatedTokens.increment(generated);
        registry.counter("gpt.generation.requests", "finish_reason", reason.value()).increment();
    }

    @Override
    public void requestFailed(Duration elapsed, Failure failure) {
        failed.get(failure).record(elapsed);
    }
}
