package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.TestModels;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** Continuous batching: results independent of company, limits, deadlines and cancellation. */
class BatchingTest {

    static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();

    @Test
    void aRequestGetsTheSameTokensAndLogprobsBitForBitAloneAndAmong31Others() {
        GPTModel model = TestModels.seed123TwoBlocks();
        Random random = new Random(13);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            // prompts longer than the 64-token prefill chunk, so that several compete for a step's budget, and
            // lengths that leave the batch at different steps; every other request greedy, the others sampled
            int[] prompt = random.ints(1 + random.nextInt(150), 0, 50257).toArray();
            int newTokens = 4 + random.nextInt(6);
            requests.add(i % 2 == 0
                    ? new GenerationRequest(prompt, newTokens, 0.0, null, null, null, List.of(), 2)
                    : new GenerationRequest(prompt, newTokens, 0.9, 40, null, 1000L + i, List.of(), 3));
        }
        BatchScheduler.Limits limits = new BatchScheduler.Limits(32, 32, 32, 32 * 160, 64);
        List<GenerationResult> together = new ArrayList<>();
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, limits, GenerationObserver.NONE)) {
            List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
            for (GenerationRequest r : requests) {
                futures.add(scheduler.submit(r, TokenListener.NONE, TimeUnit.MINUTES.toNanos(5)));
            }
            futures.forEach(f -> together.add(f.join()));
        }
        try (BatchScheduler alone = new BatchScheduler(model, TOKENIZER, limits, GenerationObserver.NONE)) {
            for (int i = 0; i < requests.size(); i++) {
                GenerationResult solo = alone.generate(requests.get(i));
                GenerationResult batched = together.get(i);
                assertThat(batched.generatedTokens()).as("request %d", i).containsExactly(solo.generatedTokens());
                // records compare their doubles with Double.compare: the same bits, alternatives included
                assertThat(batched.logprobs()).as("request %d", i).isEqualTo(solo.logprobs());
            }
        }
    }

    @Test
    void beyondTheRunningSlotsAndTheQueueRequestsAreRefused() throws Exception {
        CountDownLatch firstToken = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        int[] prompt = TOKENIZER.encode("Hello");
        try (BatchScheduler scheduler = new BatchScheduler(TestModels.seed123(), TOKENIZER,
                new BatchScheduler.Limits(1, 1, 1, 2048, 512), GenerationObserver.NONE)) {
            // the running request blocks the model thread in its listener until released
            CompletableFuture<GenerationResult> running = scheduler.submit(GenerationRequest.greedy(prompt, 2),
                    (i, t, s) -> {
                        firstToken.countDown();
                        awaitRelease(release);
                    }, TimeUnit.MINUTES.toNanos(1));
            assertThat(firstToken.await(30, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<GenerationResult> queued = scheduler.submit(GenerationRequest.greedy(prompt, 1),
                    TokenListener.NONE, TimeUnit.MINUTES.toNanos(1));
            assertThatThrownBy(() -> scheduler.submit(GenerationRequest.greedy(prompt, 1), TokenListener.NONE,
                    TimeUnit.MINUTES.toNanos(1))).isInstanceOf(OverloadedException.class);
            release.countDown();
            assertThat(running.get(30, TimeUnit.SECONDS).generatedTokens()).hasSize(2);
            assertThat(queued.get(30, TimeUnit.SECONDS).generatedTokens()).hasSize(1);
            assertThat(scheduler.kvCacheUsed()).isZero();
        }
    }

    @Test
    void aRequestPastItsDeadlineEndsWithAClearError() {
        try (BatchScheduler scheduler = TestModels.scheduler(TestModels.seed123())) {
            CompletableFuture<GenerationResult> f = scheduler.submit(GenerationRequest.greedy(TOKENIZER.encode("Hi"), 500),
                    TokenListener.NONE, TimeUnit.MILLISECONDS.toNanos(300));
            assertThatThrownBy(f::join).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(DeadlineExceededException.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0 && scheduler.kvCacheUsed() == 0);
        }
    }

    @Test
    void aCancelledRequestLeavesTheBatchAtTheNextStep() {
        try (BatchScheduler scheduler = TestModels.scheduler(TestModels.seed123())) {
            List<Integer> seen = new ArrayList<>();
            CompletableFuture<GenerationResult>[] f = new CompletableFuture[1];
            f[0] = scheduler.submit(GenerationRequest.greedy(TOKENIZER.encode("Hi"), 500), (i, t, s) -> {
                seen.add(i);
                if (i == 2) {
                    f[0].cancel(true);
                }
            }, TimeUnit.MINUTES.toNanos(1));
            assertThatThrownBy(f[0]::join).isInstanceOf(CancellationException.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0 && scheduler.kvCacheUsed() == 0);
            assertThat(seen).containsExactly(0, 1, 2);
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
