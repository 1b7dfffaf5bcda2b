package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The seeds' causal MultiHeadAttention (listing 3.5, with query/key/value biases) against PyTorch's output
 * on a (2, 6, 18) batch, run as the engine runs rows: each sequence a chunk attending to its own KV cache,
 * all tokens at once, token by token, or in uneven chunks with the sequences taking turns. Every schedule
 * must give the book's batch output.
 */
class MultiHeadAttentionTest {

    private static final LayerFixtures FIXTURE = LayerFixtures.of("multi_head_attention");

    private static double maxDiffFromPyTorch(int[][] steps) {
        GPTConfig cfg = FIXTURE.gptConfig();
        MultiHeadAttention att = new MultiHeadAttention(FIXTURE.fusedQkv(""), FIXTURE.linear("out_proj"),
                cfg.nHeads(), 0);
        Tensor input = FIXTURE.tensor("input");
        Tensor out = LayerFixtures.runAsEngine(cfg, input, steps,
                act -> act.normed, act -> act.delta, act -> att.forward(act, act.normed, act.delta));
        return LayerFixtures.maxDiff(out, FIXTURE.tensor("output"), Math.toIntExact(input.length()));
    }

    @Test
    void bothSequencesInOneStepMatchTheBooksBatch() {
        assertThat(maxDiffFromPyTorch(new int[][] {{6, 6}})).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void tokenByTokenFromTheKvCacheMatchesTheBooksBatch() {
        assertThat(maxDiffFromPyTorch(new int[][] {{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}))
                .isLessThanOrEqualTo(1e-6);
    }

    @Test
    void unevenChunksWithTheSequencesTakingTurnsMatchTheBooksBatch() {
        assertThat(maxDiffFromPyTorch(new int[][] {{3, 1}, {0, 4}, {2, 1}, {1, 0}})).isLessThanOrEqualTo(1e-6);
    }
}
