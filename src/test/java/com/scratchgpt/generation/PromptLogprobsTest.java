package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import com.scratchgpt.Fixtures;
import com.scratchgpt.InspectionReference;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.TestModels;
import com.scratchgpt.tokenizer.GPT2Tokenizer;
import com.scratchgpt.weights.CheckpointLoader;

import tools.jackson.databind.JsonNode;

/**
 * A prompt's log-probabilities, scored from the logits of the forward pass that reads it: equal to what PyTorch
 * computes for the same tokens (its per-token loss, its greedy runs' log-probabilities), the same read in one chunk or
 * several, alone or among other sequences, across the output head's row blocks; the generation that follows unchanged.
 */
class PromptLogprobsTest {

    static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();

    /** Only scores: no token generated. */
    static GenerationRequest scoring(int[] tokens, int top) {
        return new GenerationRequest(tokens, 0, 0.0, null, null, null, List.of(), top, true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-book", "tiny-hf-f16", "tiny-hf-bf16", "tiny-book-qkv-f16"})
    void eachPromptTokensLogprobIsMinusPyTorchsLossOfIt(String fixture) {
        InspectionReference reference = InspectionReference.of(fixture);
        int[] prompt = reference.promptTokens(); // tiny-book-qkv-f16: the whole context of 16
        double[] loss = reference.perTokenLoss();
        try (BatchScheduler scheduler = TestModels.scheduler(InspectionTest.model(fixture))) {
            GenerationResult r = scheduler.generate(scoring(prompt, 3));
            assertThat(r.generatedTokens()).isEmpty();
            assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(r.promptLogprobs()).hasSize(prompt.length - 1);
            for (int i = 0; i < loss.length; i++) {
                TokenLogprob lp = r.promptLogprobs().get(i);
                assertThat(lp.token()).isEqualTo(prompt[i + 1]);
                assertThat(lp.logprob()).as("token %d", i + 1).isCloseTo(-loss[i], within(1e-4));
                JsonNode likeliest = reference.mostLikelyNext(i);
                assertThat(Math.exp(lp.top().get(0).logprob())).as("the likeliest token after position %d", i)
                        .isCloseTo(likeliest.get(1).asDouble(), within(InspectionReference.PROB));
                assertThat(lp.top()).hasSize(3);
            }
            assertThat(scheduler.kvCacheUsed()).isZero();
        }
    }

    @ParameterizedTest
    @CsvSource({"tiny-book, 1e-4", "tiny-hf-prefixed, 1e-4", "tiny-book-pth, 1e-4", "gpt2-small-seed123, 1e-3"})
    void aGreedyRunScoredAfterwardsHasPyTorchsLogprobsAndIsGreedy(String fixture, double tolerance) {
        GPTModel model = fixture.startsWith("gpt2-small") ? TestModels.seed123()
                : fixture.endsWith("-pth") ? CheckpointLoader.load(Fixtures.of(fixture).dir().resolve("model.pth")).model()
                : InspectionTest.model(fixture);
        int ctx = model.config().contextLength();
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            for (Fixtures.Run run : Fixtures.of(fixture).runs()) {
                int t = run.prompt().length;
                int kept = Math.min(run.generated().length, ctx - t); // prompt and continuation in one window
                if (kept <= 0) {
                    continue;
                }
                int[] text = Arrays.copyOf(run.prompt(), t + kept);
                System.arraycopy(run.generated(), 0, text, t, kept);
                List<TokenLogprob> scored = scheduler.generate(scoring(text, 5)).promptLogprobs();
                for (int s = 0; s < kept; s++) {
                    TokenLogprob lp = scored.get(t - 1 + s);
                    String where = fixture + " run of " + t + " tokens, step " + s;
                    assertThat(lp.logprob()).as(where).isCloseTo(run.logprobs()[s], within(tolerance));
                    assertThat(lp.logprob()).as("%s: the greedy token is the likeliest, to the bit", where)
                            .isEqualTo(lp.top().get(0).logprob());
                    for (int k = 0; k < run.topLogprobs()[s].length; k++) {
                        assertThat(lp.top().get(k).logprob()).as("%s, rank %d", where, k)
                                .isCloseTo(run.topLogprobs()[s][k], within(tolerance));
                    }
                }
            }
        }
    }

    @Test
    void aPromptReadInChunksAmongOtherSequencesScoresAsTheSeedsForwardDoes() {
        GPTModel model = TestModels.seed123();
        int[] prompt = new Random(5).ints(150, 0, 50257).toArray(); // three row blocks of the output head
        double[] seeds = logprobsOfNext(model.forward(new int[][] {prompt}), prompt);
        List<TokenLogprob> alone;
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            alone = scheduler.generate(scoring(prompt, 2)).promptLogprobs();
        }
        List<TokenLogprob> inCompany;
        int ctx = model.config().contextLength();
        // 40 prompt rows a step, beside three sequences that decode
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(4, 4, 4, 4 * ctx, 40),
                GenerationObserver.NONE)) {
            List<CompletableFuture<GenerationResult>> others = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                others.add(scheduler.submit(GenerationRequest.greedy(new int[] {15496, 11, 314 + i}, 20), TokenListener.NONE,
                        TimeUnit.MINUTES.toNanos(5)));
            }
            inCompany = scheduler.submit(scoring(prompt, 2), TokenListener.NONE, TimeUnit.MINUTES.toNanos(5)).join()
                    .promptLogprobs();
            others.forEach(f -> assertThat(f.join().generatedTokens()).hasSize(20));
            assertThat(scheduler.kvCacheUsed()).isZero();
        }
        assertThat(alone).hasSize(prompt.length - 1);
        assertThat(inCompany).hasSize(prompt.length - 1);
        for (int p = 0; p + 1 < prompt.length; p++) {
            double expected = seeds[p];
            assertThat(alone.get(p).logprob()).as("token %d alone", p + 1).isCloseTo(expected, within(1e-4));
            assertThat(inCompany.get(p).logprob()).as("token %d in company", p + 1).isCloseTo(expected, within(1e-4));
            assertThat(inCompany.get(p).token()).isEqualTo(prompt[p + 1]);
        }
    }

    @Test
    void scoringThePromptLeavesTheContinuationAsItWas() {
        GPTModel model = InspectionTest.model("tiny-book");
        int[] prompt = InspectionReference.of("tiny-book").promptTokens();
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            for (double temperature : new double[] {0.0, 1.2}) {
                GenerationRequest plain = new GenerationRequest(prompt, 8, temperature, null, null, 7L, List.of(), 4);
                GenerationRequest scored = new GenerationRequest(prompt, 8, temperature, null, null, 7L, List.of(), 4, true);
                GenerationResult a = scheduler.generate(plain);
                GenerationResult b = scheduler.generate(scored);
                assertThat(a.promptLogprobs()).isNull();
                assertThat(b.promptLogprobs()).hasSize(prompt.length - 1);
                assertThat(b.generatedTokens()).containsExactly(a.generatedTokens());
                assertThat(b.logprobs()).isEqualTo(a.logprobs());
                assertThat(b.finishReason()).isEqualTo(a.finishReason());
            }
        }
    }

    @Test
    void aOneTokenPromptHasNothingToScoreAndIsNotQueued() {
        try (BatchScheduler scheduler = TestModels.scheduler(InspectionTest.model("tiny-book"))) {
            CompletableFuture<GenerationResult> f = scheduler.submit(scoring(new int[] {15496}, 1), TokenListener.NONE,
                    TimeUnit.MINUTES.toNanos(1));
            assertThat(f).isDone();
            assertThat(f.join().promptLogprobs()).isEmpty();
            assertThat(f.join().finishReason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    @Test
    void withNothingToGenerateAPromptOfTheContextPlusOneIsScoredInOneWindow() {
        InspectionReference reference = InspectionReference.of("tiny-book-qkv-f16");
        int[] context = reference.promptTokens(); // the whole context of 16
        JsonNode likeliest = reference.mostLikelyNext(context.length - 1);
        int[] prompt = Arrays.copyOf(context, context.length + 1);
        prompt[context.length] = likeliest.get(0).asInt(); // the token PyTorch finds likeliest after the context
        try (BatchScheduler scheduler = TestModels.scheduler(InspectionTest.model("tiny-book-qkv-f16"))) {
            List<TokenLogprob> whole = scheduler.generate(scoring(context, 1)).promptLogprobs();
            List<TokenLogprob> scored = scheduler.generate(scoring(prompt, 1)).promptLogprobs();
            assertThat(scored).hasSize(context.length);
            assertThat(scored.subList(0, context.length - 1)).isEqualTo(whole);
            TokenLogprob last = scored.get(context.length - 1);
            assertThat(last.logprob()).isCloseTo(Math.log(likeliest.get(1).asDouble()), within(1e-4));
            assertThat(last.logprob()).isEqualTo(last.top().get(0).logprob());
            assertThat(scheduler.kvCacheUsed()).isZero();
        }
    }

    @Test
    void aPromptTheModelCannotReadInOneWindowCannotBeScored() {
        GPTModel model = InspectionTest.model("tiny-book-qkv-f16"); // context 16
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            assertThatThrownBy(() -> scheduler.submit(scoring(new int[18], 1), TokenListener.NONE, TimeUnit.MINUTES.toNanos(1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("18 tokens");
            GenerationRequest thenGenerate = new GenerationRequest(new int[17], 1, 0.0, null, null, null, List.of(), 1, true);
            assertThatThrownBy(() -> scheduler.submit(thenGenerate, TokenListener.NONE, TimeUnit.MINUTES.toNanos(1)))
                    .as("the first new token needs the logits of the 17th").isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("17 tokens");
            assertThat(scheduler.waiting()).isZero();
            assertThatThrownBy(() -> new GenerationRequest(new int[] {1, 2}, 0, 0.0, null, null, null, List.of(), null, true))
                    .as("scores come with logprobs").isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** logits (1, T, vocab) -> log-softmax at each position p of tokens[p + 1], in double precision: (T - 1). */
    private static double[] logprobsOfNext(INDArray logits, int[] tokens) {
        float[][] rows = logits.reshape(logits.size(1), logits.size(2)).toFloatMatrix();
        double[] out = new double[tokens.length - 1];
        for (int p = 0; p < out.length; p++) {
            double max = Double.NEGATIVE_INFINITY;
            for (float v : rows[p]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (float v : rows[p]) {
                sum += Math.exp(v - max);
            }
            out[p] = rows[p][tokens[p + 1]] - (max + Math.log(sum));
        }
        return out;
    }
}
