package com.scratchgpt.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The four GPT-2 sizes (the seeds' exercise 4.2), named as {@code gpt.model.preset} takes them. */
public enum GPTPreset {
    GPT2_SMALL("gpt2-small", 768, 12, 12),
    GPT2_MEDIUM("gpt2-medium", 1024, 24, 16),
    GPT2_LARGE("gpt2-large", 1280, 36, 20),
    GPT2_XL("gpt2-xl", 1600, 48, 25);

    private final String presetName;
    private final int embDim;
    private final int nLayers;
    private final int nHeads;

    GPTPreset(String presetName, int embDim, int nLayers, int nHeads) {
        this.presetName = presetName;
        this.embDim = embDim;
        this.nLayers = nLayers;
        this.nHeads = nHeads;
    }

    public String presetName() {
        return presetName;
    }

    /** GPT_CONFIG_124M with this size's emb_dim, n_layers and n_heads. */
    public GPTConfig config(boolean qkvBias) {
        GPTConfig base = GPTConfig.GPT_CONFIG_124M;
        return new GPTConfig(base.vocabSize(), base.contextLength(), embDim, nHeads, nLayers, base.dropRate(), qkvBias);
    }

    public static GPTPreset byName(String name) {
        return Arrays.stream(values())
                .filter(p -> p.presetName.equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown gpt.model.preset '" + name + "'; one of "
                        + Arrays.stream(values()).map(GPTPreset::presetName).collect(Collectors.joining(", "))));
    }
}
