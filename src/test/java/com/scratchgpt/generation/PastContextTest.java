package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.TestModels;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * Past the context every new token re-reads the whole cropped window (the seeds' semantics, positions
 * from 0). That recomputation goes in small chunks between the steps of the sequences decoding beside
 * it, so they are not held up by a thousand rows a step; alone, it takes the whole prompt budget. Between
 * its tokens such a sequence holds nothing it will read again, so it gives its slot and KV cache to whoever
 * waits. The tokens are the same either way. On a model with GPT-2's context and small blocks
 * (TestModels.longContext): the scheduling is the same, a window takes milliseconds instead of seconds, and
 * the listeners hold the scheduler where a test needs a sequence to arrive, rather than a slow model.
 */
class PastContextTest {

    static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();

    /** One step as the scheduler reported it. */
    record Step(int sequences, int tokens) {
    }

    @Test
    void recomputationGoesInSmallChunksBesideADecodingSequenceAndGivesTheSameTokens() throws Exception {
        GPTModel model = TestModels.longContext();
        int ctx = model.config().contextLength();
        int[] window = new Random(5).ints(ctx, 0, 50257).toArray();
        GenerationRequest past = GenerationRequest.greedy(window, 3); // tokens 2 and 3 recompute the window
        List<Step> steps = new CopyOnWriteArrayList<>();
        GenerationObserver observer = new GenerationObserver() {
            @Override
            public void stepRan(int sequences, int tokens, Duration elapsed) {
                steps.add(new Step(sequences, tokens));
            }
        };
        GenerationResult together;
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER,
                new BatchScheduler.Limits(4, 4, 4, 4 * ctx, 512), observer)) {
            CountDownLatch firstToken = new CountDownLatch(1);
            CountDownLatch neighbourSubmitted = new CountDownLatch(1);
            CompletableFuture<GenerationResult> recomputing = scheduler.submit(past, (i, t, s) -> {
                if (i == 0) {
                    firstToken.countDown();
                    await(neighbourSubmitted); // holds the scheduler before the window is recomputed for token 2
                }
            }, TimeUnit.MINUTES.toNanos(10));
            assertThat(firstToken.await(5, TimeUnit.MINUTES)).isTrue();
            int from = steps.size();
            // a neighbour that decodes all through the recomputation of the next two tokens
            CompletableFuture<GenerationResult> neighbour = scheduler.submit(
                    GenerationRequest.greedy(TOKENIZER.encode("Hello, I am"), 1000), TokenListener.NONE,
                    TimeUnit.MINUTES.toNanos(10));
            neighbourSubmitted.countDown();
            together = recomputing.get(10, TimeUnit.MINUTES);
            neighbour.cancel(true);
            List<Step> seen = List.copyOf(steps); // the scheduler may still report the neighbour's last step
            List<Step> shared = seen.subList(from, seen.size()).stream().filter(s -> s.sequences() == 2).toList();
            assertThat(shared).as("steps the two sequences shared").isNotEmpty();
            assertThat(shared).as("rows of a step beside a decoding sequence: its prompt or token, and a chunk of the window")
                    .allSatisfy(s -> assertThat(s.tokens()).isLessThanOrEqualTo(4 + BatchScheduler.RECOMPUTE_ROWS_IN_COMPANY));
        }
        try (BatchScheduler alone = TestModels.scheduler(model)) {
            assertThat(together.generatedTokens()).containsExactly(alone.generate(past).generatedTokens());
        }
    }

    @Test
    void sequencesPastTheContextGiveTheirPlaceToANewcomerBetweenTokensAndKeepTheirTokens() throws Exception {
        GPTModel model = TestModels.longContext();
        int ctx = model.config().contextLength();
        GenerationRequest first = GenerationRequest.greedy(new Random(8).ints(ctx, 0, 50257).toArray(), 4);
        GenerationRequest second = GenerationRequest.greedy(new Random(9).ints(ctx, 0, 50257).toArray(), 4);
        GenerationRequest newcomer = GenerationRequest.greedy(TOKENIZER.encode("Hello, I am"), 3);
        List<String> ended = new CopyOnWriteArrayList<>();
        CountDownLatch bothGenerating = new CountDownLatch(2);
        CountDownLatch newcomerSubmitted = new CountDownLatch(1);
        long tenMinutes = TimeUnit.MINUTES.toNanos(10);
        List<GenerationResult> results;
        // two slots and two contexts of KV cache: the two long sequences hold all of it
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(2, 2, 4, 2 * ctx, 512),
                GenerationObserver.NONE)) {
            TokenListener firstToken = (i, t, s) -> {
                if (i == 0) {
                    bothGenerating.countDown();
                    if (bothGenerating.getCount() == 0) {
                        await(newcomerSubmitted); // holds the scheduler with both a token in, three to go
                    }
                }
            };
            CompletableFuture<GenerationResult> a = scheduler.submit(first, firstToken, tenMinutes);
            CompletableFuture<GenerationResult> b = scheduler.submit(second, firstToken, tenMinutes);
            a.whenComplete((r, e) -> ended.add("first"));
            b.whenComplete((r, e) -> ended.add("second"));
            assertThat(bothGenerating.await(10, TimeUnit.MINUTES)).isTrue();
            CompletableFuture<GenerationResult> c = scheduler.submit(newcomer, TokenListener.NONE, tenMinutes);
            c.whenComplete((r, e) -> ended.add("newcomer"));
            newcomerSubmitted.countDown();
            results = List.of(a.get(10, TimeUnit.MINUTES), b.get(10, TimeUnit.MINUTES), c.get(10, TimeUnit.MINUTES));
        }
        assertThat(ended).as("the newcomer did not wait for three tokens past the context of either").startsWith("newcomer");
        try (BatchScheduler alone = TestModels.scheduler(model)) {
            List<GenerationRequest> requests = List.of(first, second, newcomer);
            for (int i = 0; i < requests.size(); i++) {
                assertThat(results.get(i).generatedTokens()).as("request %d", i)
                        .containsExactly(alone.generate(requests.get(i)).generatedTokens());
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
