package com.scratchgpt;

import java.nio.file.Path;

import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import com.scratchgpt.generation.BatchScheduler;
import com.scratchgpt.generation.GenerationObserver;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.generation.RequestLimits;
import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.GPTPreset;
import com.scratchgpt.model.TorchInitializer;
import com.scratchgpt.model.kernel.WeightFormat;
import com.scratchgpt.model.kernel.WeightMatrix;
import com.scratchgpt.tokenizer.GPT2Tokenizer;
import com.scratchgpt.weights.CheckpointLoader;

/**
 * Builds the served model once at start-up: the checkpoint at {@code gpt.model.path}, or the preset
 * initialised as PyTorch would with {@code gpt.model.seed}, its weights converted to
 * {@code gpt.model.weight-format}. A checkpoint that cannot load stops start-up.
 */
@Configuration(proxyBeanMethods = false)
class ModelConfiguration {

    private static final Logger log = LoggerFactory.getLogger(ModelConfiguration.class);

    @Bean
    ServedModel servedModel(GptProperties properties) {
        // BLAS gets every core: decoding is bandwidth-bound and one core cannot saturate memory;
        // the Java-side element-wise loops split over the same cores only between BLAS calls
        int cores = Runtime.getRuntime().availableProcessors();
        Nd4j.factory().blas().setMaxThreads(cores);
        log.info("OpenBLAS ({}) on {} threads", Nd4j.factory().blas().getBlasVendor(), cores);
        if (WeightMatrix.kernelsAvailable()) {
            log.info("Weight kernels: {}", WeightMatrix.kernelDescription());
        } else {
            log.warn("Weight kernels off: this JVM was started without the JDK's Vector API"
                    + " (java --add-modules jdk.incubator.vector); products run on OpenBLAS only");
        }
        GptProperties.Model p = properties.model();
        WeightFormat format = p.format();
        ServedModel served;
        if (p.path() != null && !p.path().isBlank()) {
            CheckpointLoader.Loaded loaded = CheckpointLoader.load(Path.of(p.path()), format);
            served = ServedModel.checkpoint(loaded);
            log.info("Loaded {} ({} layout, {}) in {} ms: {}", served.source(), served.layout(), served.dtype(),
                    served.loadMillis(), loaded.model().config());
        } else {
            GPTConfig cfg = GPTPreset.byName(p.preset()).config(p.qkvBias());
            long start = System.nanoTime();
            GPTModel model = TorchInitializer.initialize(cfg, p.seed(), format);
            long millis = (System.nanoTime() - start) / 1_000_000;
            log.info("Initialised {} as torch.manual_seed({}) does in {} ms: {}", p.preset(), p.seed(), millis, cfg);
            served = ServedModel.randomInit(model, p.preset(), p.seed(), millis);
        }
        log.info("Weights in {}: {} MB ({} MB as float32)", format, served.model().residentBytes() >> 20,
                served.model().parameterCount() * Float.BYTES >> 20);
        return served;
    }

    @Bean
    GPTModel gptModel(ServedModel served) {
        return served.model();
    }

    @Bean
    GPT2Tokenizer gpt2Tokenizer() {
        return new GPT2Tokenizer();
    }

    /**
     * The one owner of the model at run time. On shutdown the web server's graceful phase lets requests
     * in flight finish first; {@code close} then cancels whatever is left.
     */
    @Bean(destroyMethod = "close")
    BatchScheduler batchScheduler(GPTModel model, GPT2Tokenizer tokenizer, GptProperties properties,
                                  GenerationObserver observer) {
        GptProperties.Generation g = properties.generation();
        int kvTokens = g.maxBatchTokens();
        if (kvTokens < model.config().contextLength()) {
            // one request may use the whole context: a smaller cache could never admit it
            throw new InvalidConfigurationPropertyValueException("gpt.generation.max-batch-tokens", kvTokens,
                    "must be at least the model's context length, " + model.config().contextLength());
        }
        BatchScheduler.Limits limits = new BatchScheduler.Limits(g.maxConcurrent(), g.maxBatch(), g.maxQueue(), kvTokens,
                g.prefillChunk()).withRequestShare(g.maxRequestShare(), model.config().contextLength());
        BatchScheduler scheduler = new BatchScheduler(model, tokenizer, limits, observer);
        log.info("Batching up to {} sequences a step, {} running, {} queued; KV cache of {} positions ({} MB);"
                        + " one request holds at most {} slots and {} positions",
                g.maxBatch(), g.maxConcurrent(), g.maxQueue(), kvTokens, scheduler.kvCacheBytes() >> 20,
                limits.maxRequestSlots(), limits.maxRequestKvTokens());
        return scheduler;
    }

    @Bean
    GenerationService generationService(BatchScheduler scheduler, GenerationObserver observer, GPTModel model,
                                        GptProperties properties) {
        GptProperties.Generation g = properties.generation();
        return new GenerationService(scheduler, observer, g.timeout(), new RequestLimits(g.maxNewTokens(),
                model.config().contextLength(), g.maxTokensPastContext(), scheduler.maxSequencesPerRequest()));
    }
}
