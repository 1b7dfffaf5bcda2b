package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.scratchgpt.Fixtures;
import com.scratchgpt.model.ParameterCount;
import com.scratchgpt.model.ReferenceAssertions;

/**
 * Every checkpoint fixture, addressed as its folder and as its .safetensors file, loads into a model
 * that reproduces the PyTorch reference: logits within 1e-4, greedy runs token for token (including
 * runs longer than the context), log-probabilities within 1e-3.
 */
class CheckpointReferenceTest {

    /**
     * @param checkpoint the fixture folder loaded
     * @param reference  the fixture whose reference.json and logits.f32 it must reproduce
     * @param asFile     address model.safetensors rather than the folder
     * @param layout     the layout the loader must report
     * @param dtype      the stored dtype the loader must report
     * @param tied       whether the output head must be the token embedding's array
     */
    record Case(String checkpoint, String reference, boolean asFile, CheckpointLayout layout, String dtype, boolean tied) {

        Path path() {
            Path dir = Fixtures.of(reference).dir().resolveSibling(checkpoint);
            return asFile ? dir.resolve("model.safetensors") : dir;
        }

        @Override
        public String toString() {
            return checkpoint + (asFile ? " (file)" : " (folder)");
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("tiny-hf", "tiny-hf", false, CheckpointLayout.HUGGING_FACE, "F32", true),
                new Case("tiny-hf-f16", "tiny-hf-f16", false, CheckpointLayout.HUGGING_FACE, "F16", true),
                new Case("tiny-book-qkv-f16", "tiny-book-qkv-f16", false, CheckpointLayout.BOOK, "F16", false),
                new Case("tiny-hf-bf16", "tiny-hf-bf16", false, CheckpointLayout.HUGGING_FACE, "BF16", true),
                new Case("tiny-hf-prefixed", "tiny-hf-prefixed", false, CheckpointLayout.HUGGING_FACE, "F32", true),
                new Case("tiny-hf-lm-head-tied", "tiny-hf-f16", false, CheckpointLayout.HUGGING_FACE, "F16", true),
                new Case("tiny-hf-lm-head-untied", "tiny-hf-lm-head-untied", false, CheckpointLayout.HUGGING_FACE, "F16", false))
                .flatMap(c -> Stream.of(c, new Case(c.checkpoint(), c.reference(), true, c.layout(), c.dtype(), c.tied())));
    }

    private static final Map<Case, CheckpointLoader.Loaded> LOADED = new ConcurrentHashMap<>();

    private static CheckpointLoader.Loaded load(Case c) {
        return LOADED.computeIfAbsent(c, k -> CheckpointLoader.load(k.path()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void logitsMatchPyTorchWithin1e4(Case c) {
        ReferenceAssertions.assertLogits(load(c).model(), Fixtures.of(c.reference()), 1e-4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void seedsLoopReproducesGreedyRunsIncludingRunsLongerThanTheContext(Case c) {
        Fixtures fixture = Fixtures.of(c.reference());
        Fixtures.Run longRun = fixture.runs().get(2);
        assertThat(longRun.prompt().length + longRun.generated().length)
                .isGreaterThan(load(c).model().config().contextLength());
        ReferenceAssertions.assertSimpleGreedyRuns(load(c).model(), fixture);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cachedGeneratorReproducesGreedyRunsAndLogprobs(Case c) {
        ReferenceAssertions.assertCachedGreedyRuns(load(c).model(), Fixtures.of(c.reference()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void reportsLayoutDtypeFileAndTyingAndCountsParametersLikeTheSeeds(Case c) {
        CheckpointLoader.Loaded loaded = load(c);
        assertThat(loaded.layout()).isEqualTo(c.layout());
        assertThat(loaded.dtype()).isEqualTo(c.dtype());
        assertThat(loaded.file().getFileName()).hasToString("model.safetensors");
        assertThat(loaded.model().tiedOutputHead()).isEqualTo(c.tied());
        assertThat(ParameterCount.of(loaded.model().config(), loaded.model().tiedOutputHead()).totalParameters())
                .isEqualTo(Fixtures.of(c.reference()).totalParams());
    }
}
