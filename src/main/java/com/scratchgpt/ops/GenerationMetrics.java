package com.scratchgpt.ops;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.springframework.stereotype.Component;

import com.scratchgpt.ServedModel;
import com.scratchgpt.generation.BatchScheduler;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Every metric the service publishes, in one place (names as in the public contract, the rest after
 * what TGI and vLLM publish): request latency, time to first token, time per output token, queue time,
 * token counters, requests running and waiting, and what each batched step did.
 */
@Component
public class GenerationMetrics implements BatchScheduler.Observer {

    private static final double[] PERCENTILES = {0.5, 0.9, 0.95, 0.99};

    private final MeterRegistry registry;
    private final Timer duration;
    private final Timer timeToFirstToken;
    private final Timer timePerOutputToken;
    private final Timer queueTime;
    private final Timer stepDuration;
    private final DistributionSummary batchSize;
    private final DistributionSummary tokensPerStep;
    private final Counter generatedTokens;
    private final Counter promptTokens;

    public GenerationMetrics(MeterRegistry registry, ServedModel served) {
        this.registry = registry;
        Gauge.builder("gpt.model.parameters", served, s -> s.model().parameterCount())
                .description("Parameters of the loaded model, each tensor once").register(registry);
        Gauge.builder("gpt.model.memory", served, s -> s.model().parameterBytes())
                .description("Bytes the loaded weights occupy (off-heap)").baseUnit("bytes").register(registry);
        // ND4J's arrays (weights, KV cache, activations) live off-heap: the JVM's own memory metrics miss them
        Gauge.builder("gpt.process.physical", org.bytedeco.javacpp.Pointer::physicalBytes)
                .description("Resident memory of the whole process, as JavaCPP reads it").baseUnit("bytes").register(registry);
        this.duration = timer("gpt.generation.duration", "Time to serve one generation request, queueing included");
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

    private Timer timer(String name, String description) {
        return Timer.builder(name).description(description).publishPercentiles(PERCENTILES)
                .publishPercentileHistogram().register(registry);
    }

    /** Requests running and waiting, and the KV cache they hold. */
    public void bindScheduler(BatchScheduler scheduler) {
        Gauge.builder("gpt.generation.requests.running", scheduler, BatchScheduler::running)
                .description("Requests generating now").register(registry);
        Gauge.builder("gpt.generation.requests.waiting", scheduler, BatchScheduler::waiting)
                .description("Requests queued for a generation slot").register(registry);
        Gauge.builder("gpt.kv.cache.used", scheduler, BatchScheduler::kvCacheUsed)
                .description("KV-cache positions held by running requests").baseUnit("positions").register(registry);
        Gauge.builder("gpt.kv.cache.memory", scheduler, BatchScheduler::kvCacheBytes)
                .description("Bytes allocated for the KV cache (off-heap)").baseUnit("bytes").register(registry);
    }

    /** One finished request. */
    public void recordRequest(Duration elapsed, int prompt, int generated, String finishReason) {
        duration.record(elapsed);
        promptTokens.increment(prompt);
        generatedTokens.increment(generated);
        registry.counter("gpt.generation.requests", "finish_reason", finishReason).increment();
    }

    /** A request that ended without a result: deadline, cancel, overload. */
    public void recordFailure(String reason) {
        registry.counter("gpt.generation.failures", "reason", reason).increment();
    }

    public void recordFirstToken(Duration sinceRequest) {
        timeToFirstToken.record(sinceRequest);
    }

    public void recordInterTokenLatency(Duration sincePreviousToken) {
        timePerOutputToken.record(sincePreviousToken);
    }

    @Override
    public void onAdmit(long queuedNanos) {
        queueTime.record(queuedNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void onStep(int sequences, int tokens, long nanos) {
        batchSize.record(sequences);
        tokensPerStep.record(tokens);
        stepDuration.record(nanos, TimeUnit.NANOSECONDS);
    }
}
