package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.scratchgpt.Fixtures;
import com.scratchgpt.weights.CheckpointLoader;

/** The seeds' layout (tiny-book: separate output head, qkv_bias false) against PyTorch. */
class TinyBookReferenceTest {

    static final Fixtures FIXTURE = Fixtures.of("tiny-book");
    static GPTModel model;

    @BeforeAll
    static void load() {
        model = CheckpointLoader.load(FIXTURE.dir()).model();
    }

    @Test
    void logitsMatchPyTorchWithin1e4() {
        ReferenceAssertions.assertLogits(model, FIXTURE, 1e-4);
    }

    @Test
    void seedsLoopReproducesGreedyRunsIncludingRunsLongerThanTheContext() {
        Fixtures.Run longRun = FIXTURE.runs().get(2);
        assertThat(longRun.prompt().length + longRun.generated().length).isGreaterThan(model.config().contextLength());
        ReferenceAssertions.assertSimpleGreedyRuns(model, FIXTURE);
    }

    @Test
    void cachedGeneratorReproducesGreedyRunsAndLogprobs() {
        ReferenceAssertions.assertCachedGreedyRuns(model, FIXTURE);
    }

    @Test
    void countsParametersLikeTheSeeds() {
        assertThat(ParameterCount.of(model.config(), model.tiedOutputHead()).totalParameters())
                .isEqualTo(FIXTURE.totalParams());
        assertThat(model.tiedOutputHead()).isFalse();
    }
}
