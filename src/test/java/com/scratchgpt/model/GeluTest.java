package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The seeds' GELU (listing 4.3), the tanh approximation, against PyTorch over the book's plot range. */
class GeluTest {

    private static final LayerFixtures FIXTURE = LayerFixtures.of("gelu");

    /** GELU over torch.linspace(-3, 3, 100), as the book plots it. */
    private static Tensor gelu() {
        Tensor y = FIXTURE.tensor("input");
        FeedForward.gelu(y, FIXTURE.config("n"));
        return y;
    }

    @Test
    void matchesTheSeedsTanhApproximationAsPyTorchComputesIt() {
        assertThat(LayerFixtures.maxDiff(gelu(), FIXTURE.tensor("output"), FIXTURE.config("n"))).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void isReluAwayFromZeroButSmoothAndSlightlyNegativeBelowItAsTheBookPlotsThem() {
        Tensor x = FIXTURE.tensor("input");
        Tensor relu = FIXTURE.tensor("relu");
        Tensor y = gelu();
        float min = Float.MAX_VALUE;
        float argMin = 0;
        for (int i = 0; i < FIXTURE.config("n"); i++) {
            float xi = x.buffer().get(i);
            float yi = y.buffer().get(i);
            assertThat(relu.buffer().get(i)).isEqualTo(Math.max(0f, xi));
            if (Math.abs(xi) >= 2) {
                assertThat(yi).as("GELU(%f) against ReLU", xi).isCloseTo(relu.buffer().get(i), within(0.05f));
            }
            if (xi < 0) {
                assertThat(yi).as("GELU(%f)", xi).isNegative();
            }
            if (yi < min) {
                min = yi;
                argMin = xi;
            }
        }
        // where ReLU is flat at 0, GELU dips to about -0.17 near x = -0.75
        assertThat(min).isCloseTo(-0.17f, within(0.002f));
        assertThat(argMin).isCloseTo(-0.75f, within(0.07f));
    }
}
