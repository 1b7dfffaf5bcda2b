package com.scratchgpt.model;

import com.scratchgpt.generation.BatchScheduler;
import com.scratchgpt.generation.GenerationObserver;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** Models shared by the tests of one JVM (GPT-2 small takes 650 MB and seconds to build). */
public final class TestModels {

    private static GPTModel seed123;

    private TestModels() {
    }

    /** A scheduler for this model with small limits (4 sequences, one context of KV cache per sequence). */
    public static BatchScheduler scheduler(GPTModel model) {
        int ctx = model.config().contextLength();
        return new BatchScheduler(model, new GPT2Tokenizer(),
                new BatchScheduler.Limits(4, 4, 16, 4 * ctx, 512), GenerationObserver.NONE);
    }

    /** The default model: GPT_CONFIG_124M initialised as torch.manual_seed(123) does. */
    public static synchronized GPTModel seed123() {
        if (seed123 == null) {
            seed123 = TorchInitializer.initialize(GPTConfig.GPT_CONFIG_124M, 123);
        }
        return seed123;
    }
}
