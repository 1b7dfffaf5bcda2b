package com.scratchgpt.model;

/**
 * The seeds' {@code GPT_CONFIG} dictionary.
 *
 * @param vocabSize     vocab_size: number of token ids (50257 for GPT-2's BPE)
 * @param contextLength context_length: longest window the position embedding covers
 * @param embDim        emb_dim: width of the residual stream
 * @param nHeads        n_heads: attention heads per block; must divide emb_dim
 * @param nLayers       n_layers: transformer blocks
 * @param dropRate      drop_rate: dropout probability, reported but never applied (inference is eval mode)
 * @param qkvBias       qkv_bias: whether the query, key and value projections carry a bias
 */
public record GPTConfig(int vocabSize, int contextLength, int embDim, int nHeads, int nLayers,
                        double dropRate, boolean qkvBias) {

    /** GPT_CONFIG_124M of the seeds (qkv_bias false), the default model. */
    public static final GPTConfig GPT_CONFIG_124M = new GPTConfig(50257, 1024, 768, 12, 12, 0.1, false);

    public GPTConfig {
        requirePositive("vocab_size", vocabSize);
        requirePositive("context_length", contextLength);
        requirePositive("emb_dim", embDim);
        requirePositive("n_heads", nHeads);
        requirePositive("n_layers", nLayers);
        if (embDim % nHeads != 0) {
            throw new IllegalArgumentException(
                    "emb_dim (" + embDim + ") must be divisible by n_heads (" + nHeads + ")");
        }
        if (!(dropRate >= 0.0 && dropRate < 1.0)) {
            throw new IllegalArgumentException("drop_rate must be in [0, 1), got " + dropRate);
        }
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
