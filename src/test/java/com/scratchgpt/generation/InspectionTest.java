package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.scratchgpt.Fixtures;
import com.scratchgpt.InspectionReference;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.TestModels;
import com.scratchgpt.tokenizer.GPT2Tokenizer;
import com.scratchgpt.weights.CheckpointLoader;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Inspections on the scheduler: what they show against the PyTorch reference on every dtype (F32, F16, BF16), the
 * sampler's probabilities against its own draws, and how they share the slots, the queue, the deadline and the
 * step buffers with generation.
 */
class InspectionTest {

    static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();
    static final Map<String, GPTModel> MODELS = new HashMap<>();

    static synchronized GPTModel model(String fixture) {
        return MODELS.computeIfAbsent(fixture, f -> CheckpointLoader.load(Fixtures.of(f).dir()).model());
    }

    static int[] allLayers(GPTModel model) {
        return IntStream.range(0, model.config().nLayers()).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-book", "tiny-hf-f16", "tiny-hf-bf16", "tiny-book-qkv-f16"})
    void showsWhatPyTorchComputesAttentionLensLossAndNext(String fixture) {
        InspectionReference reference = InspectionReference.of(fixture);
        JsonNode s = reference.sampler();
        GPTModel model = model(fixture);
        InspectionRequest request = new InspectionRequest(reference.promptTokens(), 10, allLayers(model), true,
                s.get("temperature").asDouble(), s.get("top_k").isNull() ? null : s.get("top_k").asInt(),
                s.get("top_p").isNull() ? null : s.get("top_p").asDouble());
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            Inspection inspection = scheduler.inspect(request, TimeUnit.MINUTES.toNanos(1)).join();
            reference.assertAnswer(JsonMapper.builder().build().valueToTree(inspection), 1e-4);
            assertThat(scheduler.kvCacheUsed()).as("the inspection's KV positions are given back").isZero();
        }
    }

    @Test
    void generationDrawsEachTokenWithTheSampledProbTheInspectionShows() {
        GPTModel model = model("tiny-book");
        int[] prompt = InspectionReference.of("tiny-book").promptTokens();
        double temperature = 1.3;
        int topK = 12;
        double topP = 0.8;
        int draws = 5_000;
        int ctx = model.config().contextLength();
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER,
                new BatchScheduler.Limits(16, 16, draws, 16 * ctx, 512), GenerationObserver.NONE)) {
            Inspection inspection = scheduler.inspect(new InspectionRequest(prompt, 50, new int[0], false, temperature,
                    topK, topP), TimeUnit.MINUTES.toNanos(1)).join();
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            for (long seed = 0; seed < draws; seed++) {
                futures.add(scheduler.submit(new GenerationRequest(prompt, 1, temperature, topK, topP, seed, List.of(), null),
                        TokenListener.NONE, TimeUnit.MINUTES.toNanos(5)));
            }
            Map<Integer, Integer> counts = new HashMap<>();
            futures.forEach(f -> counts.merge(f.join().generatedTokens()[0], 1, Integer::sum));

            double kept = 0;
            int drawnAmongTop = 0;
            for (Inspection.NextToken t : inspection.next().top()) {
                drawnAmongTop += counts.getOrDefault(t.token(), 0);
                double p = t.sampledProb();
                kept += p;
                double frequency = counts.getOrDefault(t.token(), 0) / (double) draws;
                // 5 standard errors of a frequency over this many draws
                assertThat(frequency).as("token %d (sampledProb %.4f)", t.token(), p)
                        .isCloseTo(p, within(5 * Math.sqrt(p * (1 - p) / draws) + 1e-9));
            }
            assertThat(kept).as("the kept tokens are all among the top 50 shown").isCloseTo(1.0, within(1e-9));
            assertThat(drawnAmongTop).as("every draw is one of them").isEqualTo(draws);
            assertThat(inspection.next().top().stream().filter(t -> t.sampledProb() > 0).count())
                    .as("top-k and top-p leave a few tokens, not one").isBetween(3L, 12L);
        }
    }

    @Test
    void greedyGivesTheArgmaxProbabilityOne() {
        GPTModel model = model("tiny-book");
        int[] prompt = InspectionReference.of("tiny-book").promptTokens();
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            Inspection inspection = scheduler.inspect(new InspectionRequest(prompt, 3, new int[0], false, 0.0, null, null),
                    TimeUnit.MINUTES.toNanos(1)).join();
            assertThat(inspection.next().top()).extracting(Inspection.NextToken::sampledProb).containsExactly(1.0, 0.0, 0.0);
            assertThat(inspection.next().top().get(0).token())
                    .isEqualTo(scheduler.generate(GenerationRequest.greedy(prompt, 1)).generatedTokens()[0]);
            assertThat(inspection.logitLens()).as("left out when not asked for").isNull();
            assertThat(inspection.attention()).as("left out when not asked for").isNull();
        }
    }

    @Test
    void onlyTheLayersAskedForCarryAttention() {
        GPTModel model = model("tiny-book-qkv-f16");
        int[] prompt = {15496, 11, 314, 716};
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            Inspection inspection = scheduler.inspect(new InspectionRequest(prompt, 1, new int[] {1}, true, 0.0, null, null),
                    TimeUnit.MINUTES.toNanos(1)).join();
            assertThat(inspection.attention().length).isEqualTo(3);
            assertThat(inspection.attention()[0]).isNull();
            assertThat(inspection.attention()[2]).isNull();
            assertThat(inspection.attention()[1].length).as("heads").isEqualTo(3);
            for (float[][] head : inspection.attention()[1]) {
                for (int q = 0; q < prompt.length; q++) {
                    double sum = 0;
                    for (float w : head[q]) {
                        sum += w;
                    }
                    assertThat(head[q]).hasSize(q + 1);
                    assertThat(sum).as("a softmax row").isCloseTo(1.0, within(1e-5));
                }
            }
            assertThat(inspection.logitLens()).hasSize(3);
            assertThat(inspection.loss().perToken()).hasSize(3);
        }
    }

    @Test
    void inspectionsBetweenStepsLeaveARunningGenerationUnchanged() {
        GPTModel model = model("tiny-hf-bf16");
        int[] prompt = InspectionReference.of("tiny-hf-bf16").promptTokens();
        int ctx = model.config().contextLength();
        // room in the queue for all 30 inspections: how many wait at once depends on the machine's speed
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(4, 4, 32, 4 * ctx, 512),
                GenerationObserver.NONE)) {
            int[] alone = scheduler.generate(GenerationRequest.greedy(prompt, 30)).generatedTokens();
            List<CompletableFuture<Inspection>> inspections = new ArrayList<>();
            // each token queues an inspection of another prompt, run between this generation's steps
            CompletableFuture<GenerationResult> generation = scheduler.submit(GenerationRequest.greedy(prompt, 30),
                    (i, t, s) -> inspections.add(scheduler.inspect(new InspectionRequest(new int[] {40, 1101, 257, i},
                            5, allLayers(model), true, 0.0, null, null), TimeUnit.MINUTES.toNanos(1))),
                    TimeUnit.MINUTES.toNanos(1));
            assertThat(generation.join().generatedTokens()).containsExactly(alone);
            inspections.forEach(f -> assertThat(f.join().next().top()).hasSize(5));
        }
    }

    @Test
    void anInspectionTakesAGenerationSlotQueuesBehindItAndKeepsTheDeadline() throws Exception {
        GPTModel model = model("tiny-book");
        int[] prompt = {15496, 11, 314, 716};
        InspectionRequest request = new InspectionRequest(prompt, 1, new int[0], false, 0.0, null, null);
        CountDownLatch firstToken = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        int ctx = model.config().contextLength();
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(1, 1, 1, 4 * ctx, 512),
                GenerationObserver.NONE)) {
            // the running generation holds the model thread in its listener until released
            CompletableFuture<GenerationResult> running = scheduler.submit(GenerationRequest.greedy(prompt, 2), (i, t, s) -> {
                firstToken.countDown();
                awaitRelease(release);
            }, TimeUnit.MINUTES.toNanos(1));
            assertThat(firstToken.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Inspection> expires = scheduler.inspect(request, 1); // its deadline passes while it waits
            assertThat(scheduler.waiting()).isEqualTo(1);
            assertThatThrownBy(() -> scheduler.inspect(request, TimeUnit.MINUTES.toNanos(1)))
                    .as("the one slot and the one queue place are taken").isInstanceOf(OverloadedException.class);
            release.countDown();
            assertThatThrownBy(expires::join).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(DeadlineExceededException.class);
            assertThat(running.get(30, TimeUnit.SECONDS).generatedTokens()).hasSize(2);
            await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0);
            assertThat(scheduler.inspect(request, TimeUnit.MINUTES.toNanos(1)).get(30, TimeUnit.SECONDS).tokens()).hasSize(4);
            assertThat(scheduler.kvCacheUsed()).isZero();
        }
    }

    @Test
    void aRequestTheModelCannotRunIsRefusedBeforeItIsQueued() {
        GPTModel model = model("tiny-book-qkv-f16"); // context 16, 3 layers
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            assertThatThrownBy(() -> scheduler.inspect(new InspectionRequest(new int[17], 1, new int[0], false, 0.0, null,
                    null), 1_000_000_000L)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 to 16 tokens");
            assertThatThrownBy(() -> scheduler.inspect(new InspectionRequest(new int[2], 1, new int[] {3}, true, 0.0, null,
                    null), 1_000_000_000L)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer 3");
            assertThat(scheduler.waiting()).isZero();
        }
    }

    private static void awaitRelease(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
