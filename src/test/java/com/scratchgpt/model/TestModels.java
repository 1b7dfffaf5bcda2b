package com.scratchgpt.model;

/** Models shared by the tests of one JVM (GPT-2 small takes 650 MB and seconds to build). */
public final class TestModels {

    private static GPTModel seed123;

    private TestModels() {
    }

    /** The default model: GPT_CONFIG_124M initialised as torch.manual_seed(123) does. */
    public static synchronized GPTModel seed123() {
        if (seed123 == null) {
            seed123 = TorchInitializer.initialize(GPTConfig.GPT_CONFIG_124M, 123);
        }
        return seed123;
    }
}
