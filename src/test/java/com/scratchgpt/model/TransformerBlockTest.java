package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * One of the seeds' TransformerBlocks (listing 4.6; qkv_bias false, LayerNorm parameters away from ones
 * and zeros) against PyTorch's output on a (2, 6, 18) batch, run as the engine runs rows.
 */
class TransformerBlockTest {

    private static final LayerFixtures FIXTURE = LayerFixtures.of("transformer_block");

    private static double maxDiffFromPyTorch(int[][] steps) {
        GPTConfig cfg = FIXTURE.gptConfig();
        TransformerBlock block = new TransformerBlock(FIXTURE.layerNorm("norm1"),
                new MultiHeadAttention(FIXTURE.fusedQkv("att"), FIXTURE.linear("att.out_proj"), cfg.nHeads(), 0),
                FIXTURE.layerNorm("norm2"),
                new FeedForward(FIXTURE.linear("ff.layers.0"), FIXTURE.linear("ff.layers.2")));
        Tensor input = FIXTURE.tensor("input");
        Tensor out = LayerFixtures.runAsEngine(cfg, input, steps, act -> act.x, act -> act.x, block::forward);
        return LayerFixtures.maxDiff(out, FIXTURE.tensor("output"), Math.toIntExact(input.length()));
    }

    @Test
    void bothSequencesInOneStepMatchTheBooksBatch() {
        assertThat(maxDiffFromPyTorch(new int[][] {{6, 6}})).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void unevenChunksWithTheSequencesTakingTurnsMatchTheBooksBatch() {
        assertThat(maxDiffFromPyTorch(new int[][] {{3, 1}, {0, 4}, {2, 1}, {1, 0}})).isLessThanOrEqualTo(1e-6);
    }
}
