package com.scratchgpt.ops;

import org.bytedeco.javacpp.Pointer;
import org.springframework.stereotype.Component;

import com.scratchgpt.ServedModel;
import com.scratchgpt.generation.BatchScheduler;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * The gauges, read when scraped: the served model's size, the requests running and waiting, the KV
 * cache they hold, and the process's resident memory.
 */
@Component
class ServingGauges implements MeterBinder {

    private final ServedModel served;
    private final BatchScheduler scheduler;

    ServingGauges(ServedModel served, BatchScheduler scheduler) {
        this.served = served;
        this.scheduler = scheduler;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("gpt.model.parameters", served, s -> s.model().parameterCount())
                .description("Parameters of the loaded model, each tensor once").register(registry);
        Gauge.builder("gpt.model.memory", served, s -> s.model().residentBytes())
                .description("Bytes the loaded weights occupy in their weight format (float32 off-heap, bf16 and q8_0"
                        + " on the Java heap)").baseUnit("bytes").register(registry);
        // ND4J's arrays (weights, KV cache, activations) live off-heap: the JVM's own memory metrics miss them
        Gauge.builder("gpt.process.physical", Pointer::physicalBytes)
                .description("Resident memory of the whole process, as JavaCPP reads it").baseUnit("bytes").register(registry);
        Gauge.builder("gpt.generation.requests.running", scheduler, BatchScheduler::running)
                .description("Sequences generating now").register(registry);
        Gauge.builder("gpt.generation.requests.waiting", scheduler, BatchScheduler::waiting)
                .description("Sequences waiting for a generation slot").register(registry);
        Gauge.builder("gpt.kv.cache.used", scheduler, BatchScheduler::kvCacheUsed)
                .description("KV-cache positions held by running requests").baseUnit("positions").register(registry);
        Gauge.builder("gpt.kv.cache.memory", scheduler, BatchScheduler::kvCacheBytes)
                .description("Bytes allocated for the KV cache (off-heap)").baseUnit("bytes").register(registry);
    }
}
