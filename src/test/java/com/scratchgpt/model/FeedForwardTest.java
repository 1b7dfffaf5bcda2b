package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The seeds' FeedForward (listing 4.4), as PyTorch initialises it after torch.manual_seed(123), against PyTorch. */
class FeedForwardTest {

    @Test
    void matchesPyTorchOnABatchOfSequences() {
        LayerFixtures fixture = LayerFixtures.of("feed_forward");
        FeedForward ff = new FeedForward(fixture.linear("layers.0"), fixture.linear("layers.2"));
        Tensor input = fixture.tensor("input"); // torch.rand(2, 6, 18)
        GPTConfig cfg = new GPTConfig(50257, fixture.config("tokens"), fixture.config("emb"), 1, 1, 0.0, false);

        Tensor out = LayerFixtures.runAsEngine(cfg, input, new int[][] {{6, 6}},
                act -> act.normed, act -> act.delta, act -> ff.forward(act, act.normed, act.delta));

        assertThat(out.shape()).containsExactly(input.shape());
        assertThat(LayerFixtures.maxDiff(out, fixture.tensor("output"), Math.toIntExact(input.length())))
                .isLessThanOrEqualTo(1e-6);
    }
}
