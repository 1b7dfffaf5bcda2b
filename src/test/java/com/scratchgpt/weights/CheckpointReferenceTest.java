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
 * Every checkpoint fixture, addressed as its folder and as its .safetensors file, and every .pth saved by
 * torch.save (a state_dict, or a dict with model_state_dict and optimizer_state_dict), loads into a model
 * that reproduces the PyTorch reference: logits within 1e-4, greedy runs token for token (including
 * runs longer than the context), log-probabilities within 1e-3.
 */
class CheckpointReferenceTest {

    /**
     * @param checkpoint the fixture folder loaded
     * @param reference  the fixture whose reference.json and logits.f32 it must reproduce
     * @param file       the file in it to address, or null for the folder
     * @param layout     the layout the loader must report
     * @param dtype      the stored dtype the loader must report
     * @param tied       whether the output head must be the token embedding's array
     */
    record Case(String checkpoint, String reference, String file, CheckpointLayout layout, String dtype, boolean tied) {

        Path path() {
            Path dir = Fixtures.of(reference).dir().resolveSibling(checkpoint);
            return file == null ? dir : dir.resolve(file);
        }

        Case file(String name) {
            return new Case(checkpoint, reference, name, layout, dtype, tied);
        }

        @Override
        public String toString() {
            return checkpoint + (file == null ? " (folder)" : " (" + file + ")");
        }
    }

    static Stream<Case> cases() {
        Stream<Case> safetensors = Stream.of(
                new Case("tiny-hf", "tiny-hf", null, CheckpointLayout.HUGGING_FACE, "F32", true),
                new Case("tiny-hf-f16", "tiny-hf-f16", null, CheckpointLayout.HUGGING_FACE, "F16", true),
                new Case("tiny-book-qkv-f16", "tiny-book-qkv-f16", null, CheckpointLayout.BOOK, "F16", false),
                new Case("tiny-hf-bf16", "tiny-hf-bf16", null, CheckpointLayout.HUGGING_FACE, "BF16", true),
                new Case("tiny-hf-prefixed", "tiny-hf-prefixed", null, CheckpointLayout.HUGGING_FACE, "F32", true),
                new Case("tiny-hf-lm-head-tied", "tiny-hf-f16", null, CheckpointLayout.HUGGING_FACE, "F16", true),
                new Case("tiny-hf-lm-head-untied", "tiny-hf-lm-head-untied", null, CheckpointLayout.HUGGING_FACE, "F16", false))
                .flatMap(c -> Stream.of(c, c.file("model.safetensors")));
        Stream<Case> pth = Stream.of(
                new Case("tiny-book-pth", "tiny-book-pth", "model.pth", CheckpointLayout.BOOK, "F32", false),
                new Case("tiny-book-pth", "tiny-book-pth", "model_and_optimizer.pth", CheckpointLayout.BOOK, "F32", false),
                new Case("tiny-book-pth-ctx-len", "tiny-book-pth-ctx-len", "model.pth", CheckpointLayout.BOOK, "F32", false),
                new Case("tiny-book-pth-bf16", "tiny-book-pth-bf16", "model.pth", CheckpointLayout.BOOK, "BF16", false));
        return Stream.concat(safetensors, pth);
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
        assertThat(loaded.file().getFileName()).hasToString(c.file() == null ? "model.safetensors" : c.file());
        assertThat(loaded.model().tiedOutputHead()).isEqualTo(c.tied());
        assertThat(ParameterCount.of(loaded.model().config(), loaded.model().tiedOutputHead()).totalParameters())
                .isEqualTo(Fixtures.of(c.reference()).totalParams());
    }
}
