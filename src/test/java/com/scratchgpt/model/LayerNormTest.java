package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The seeds' LayerNorm (listing 4.2) against PyTorch, and the check section 4.2 prints. */
class LayerNormTest {

    @Test
    void theBooksBatchExampleComesOutWithMeanZeroAndVarianceOneAsPyTorchPrintsThem() {
        LayerFixtures fixture = LayerFixtures.of("layer_norm_book");
        int emb = fixture.config("emb");
        Tensor batchExample = fixture.tensor("input"); // torch.randn(2, 5) after torch.manual_seed(123)
        Tensor scale = Tensor.zeros(emb);
        scale.array().assign(1); // LayerNorm(emb_dim=5) as constructed: scale ones, shift zeros
        LayerNorm ln = new LayerNorm(scale, Tensor.zeros(emb));
        GPTConfig cfg = new GPTConfig(50257, 1, emb, 1, 1, 0.0, false);

        // the two rows of the book's (2, 5) batch as two sequences of one token
        Tensor out = LayerFixtures.runAsEngine(cfg, withShape(batchExample, 2, 1, emb), new int[][] {{1, 1}},
                act -> act.x, act -> act.normed, act -> ln.forward(act, act.x, act.normed));

        assertThat(LayerFixtures.maxDiff(out, fixture.tensor("output"), 2 * emb)).isLessThanOrEqualTo(1e-6);
        for (int r = 0; r < 2; r++) {
            double mean = 0;
            double var = 0;
            for (int i = 0; i < emb; i++) {
                mean += out.buffer().get(r * emb + i) / emb;
            }
            for (int i = 0; i < emb; i++) {
                var += Math.pow(out.buffer().get(r * emb + i) - mean, 2) / emb;
            }
            assertThat(mean).as("mean of row %d", r).isCloseTo(0.0, within(1e-6))
                    .isCloseTo(fixture.json("mean").get(r).asDouble(), within(1e-6));
            // var(unbiased=False) is 1 but for eps: var / (var + 1e-5)
            assertThat(var).as("variance of row %d", r).isCloseTo(1.0, within(1e-4))
                    .isCloseTo(fixture.json("var").get(r).asDouble(), within(1e-6));
        }
    }

    @Test
    void scaleAndShiftMatchPyTorchOnABatchOfSequences() {
        LayerFixtures fixture = LayerFixtures.of("layer_norm");
        int emb = fixture.config("emb");
        LayerNorm ln = fixture.layerNorm("");
        Tensor input = fixture.tensor("input"); // (2, 6, 18)
        GPTConfig cfg = new GPTConfig(50257, fixture.config("tokens"), emb, 1, 1, 0.0, false);

        Tensor out = LayerFixtures.runAsEngine(cfg, input, new int[][] {{6, 6}},
                act -> act.x, act -> act.normed, act -> ln.forward(act, act.x, act.normed));

        assertThat(LayerFixtures.maxDiff(out, fixture.tensor("output"), Math.toIntExact(input.length())))
                .isLessThanOrEqualTo(1e-6);
    }

    private static Tensor withShape(Tensor t, long... shape) {
        Tensor out = Tensor.zeros(shape);
        out.copyFrom(t, 0, 0, Math.toIntExact(t.length()));
        return out;
    }
}
