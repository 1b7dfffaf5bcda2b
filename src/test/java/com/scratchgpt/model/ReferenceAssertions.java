package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

import com.scratchgpt.Fixtures;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.BatchScheduler;
import com.scratchgpt.generation.SimpleGenerator;
import com.scratchgpt.generation.TokenLogprob;

/** Checks a model against a PyTorch reference fixture. */
public final class ReferenceAssertions {

    private ReferenceAssertions() {
    }

    /** The seeds' forward on the fixture's batch gives logits.f32 within the tolerance. */
    public static void assertLogits(GPTModel model, Fixtures fixture, double tolerance) {
        float[] expected = fixture.logits();
        INDArray logits = model.forward(fixture.logitsBatch());
        float[] actual = logits.reshape(-1).toFloatVector();
        assertThat(actual).hasSameSizeAs(expected);
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
        }
        assertThat(maxDiff).as("max |logit - reference|").isLessThanOrEqualTo(tolerance);
    }

    /** The seeds' uncached loop reproduces every greedy run of the fixture. */
    public static void assertSimpleGreedyRuns(GPTModel model, Fixtures fixture) {
        for (Fixtures.Run run : fixture.runs()) {
            int[][] out = SimpleGenerator.generateTextSimple(model, new int[][] {run.prompt()}, run.generated().length,
                    model.config().contextLength());
            int[] generated = Arrays.copyOfRange(out[0], run.prompt().length, out[0].length);
            assertThat(generated).as("seeds' loop on prompt %s", Arrays.toString(run.prompt())).containsExactly(run.generated());
        }
    }

    /** The cached generator reproduces every greedy run, token for token, with log-probabilities within 1e-3. */
    public static void assertCachedGreedyRuns(GPTModel model, Fixtures fixture) {
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            assertCachedGreedyRuns(scheduler, fixture);
        }
    }

    /** As above, on this scheduler. */
    public static void assertCachedGreedyRuns(BatchScheduler generator, Fixtures fixture) {
        for (Fixtures.Run run : fixture.runs()) {
            GenerationRequest request = new GenerationRequest(run.prompt(), run.generated().length, 0.0, null, null,
                    null, List.of(), 5);
            GenerationResult result = generator.generate(request);
            assertThat(result.generatedTokens()).as("cached generation on prompt %s", Arrays.toString(run.prompt()))
                    .containsExactly(run.generated());
            for (int s = 0; s < run.generated().length; s++) {
                TokenLogprob lp = result.logprobs().get(s);
                assertThat(lp.logprob()).isCloseTo(run.logprobs()[s], within(1e-3));
                for (int k = 0; k < run.topTokens()[s].length; k++) {
                    assertThat(lp.top().get(k).token()).isEqualTo(run.topTokens()[s][k]);
                    assertThat(lp.top().get(k).logprob()).isCloseTo(run.topLogprobs()[s][k], within(1e-3));
                }
            }
        }
    }
}
