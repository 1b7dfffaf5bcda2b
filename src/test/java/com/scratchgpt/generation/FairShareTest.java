package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.TestModels;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * No request starves the others: one request holds at most its share of the generation slots and of the
 * KV cache while its other sequences wait their turn; a newcomer goes ahead of those; a request is queued
 * whole or refused whole, never left to fill the queue with sequences that cannot run.
 */
class FairShareTest {

    static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();
    static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

    @Test
    void aRequestRunsAtMostItsShareOfTheSlotsAndItsOtherSequencesWaitTheirTurn() {
        GPTModel model = TestModels.seed123();
        int ctx = model.config().contextLength();
        List<Integer> sequencesPerStep = Collections.synchronizedList(new ArrayList<>());
        GenerationObserver observer = new GenerationObserver() {
            @Override
            public void stepRan(int sequences, int tokens, Duration elapsed) {
                sequencesPerStep.add(sequences);
            }
        };
        List<GenerationRequest> choices = IntStream.range(0, 6)
                .mapToObj(i -> GenerationRequest.greedy(TOKENIZER.encode("Choice " + i + " of"), 5)).toList();
        BatchScheduler.Limits half = new BatchScheduler.Limits(4, 4, 8, 4 * ctx, 512).withRequestShare(0.5, ctx);
        List<GenerationResult> together;
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, half, observer)) {
            together = scheduler.submit(choices, i -> TokenListener.NONE, MINUTE).stream().map(CompletableFuture::join).toList();
        }
        assertThat(sequencesPerStep).isNotEmpty().allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2));
        try (BatchScheduler alone = TestModels.scheduler(model)) {
            for (int i = 0; i < choices.size(); i++) {
                assertThat(together.get(i).generatedTokens()).as("choice %d", i)
                        .containsExactly(alone.generate(choices.get(i)).generatedTokens());
            }
        }
    }

    @Test
    void aRequestHoldsAtMostItsShareOfTheKvCache() throws Exception {
        GPTModel model = TestModels.seed123();
        int ctx = model.config().contextLength();
        // every slot, but positions for one long sequence only: the second waits though a slot is free
        BatchScheduler.Limits limits = new BatchScheduler.Limits(4, 4, 8, 4 * ctx, 512, 4, ctx + ctx / 2);
        CountDownLatch generating = new CountDownLatch(1);
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, limits, GenerationObserver.NONE)) {
            List<CompletableFuture<GenerationResult>> futures = scheduler.submit(List.of(
                    GenerationRequest.greedy(TOKENIZER.encode("Hello, I am"), 1000),
                    GenerationRequest.greedy(TOKENIZER.encode("Hello, I am"), 1000)), i -> (index, t, s) -> generating.countDown(),
                    MINUTE);
            assertThat(generating.await(1, TimeUnit.MINUTES)).isTrue();
            assertThat(scheduler.running()).isEqualTo(1);
            assertThat(scheduler.waiting()).isEqualTo(1);
            assertThat(scheduler.kvCacheUsed()).isEqualTo(1003);
            futures.forEach(f -> f.cancel(true));
        }
    }

    @Test
    void aNewcomerIsAdmittedAheadOfTheRestOfARequestAlreadyRunning() throws Exception {
        GPTModel model = TestModels.seed123();
        int ctx = model.config().contextLength();
        List<String> firstTokens = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch newcomerQueued = new CountDownLatch(1);
        // two slots, and one request may take both
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, new BatchScheduler.Limits(2, 2, 8, 4 * ctx, 512),
                GenerationObserver.NONE)) {
            List<GenerationRequest> big = IntStream.range(0, 4)
                    .mapToObj(i -> GenerationRequest.greedy(TOKENIZER.encode("Big " + i), 3)).toList();
            List<CompletableFuture<GenerationResult>> bigOnes = scheduler.submit(big, i -> (index, t, s) -> {
                if (index == 0) {
                    firstTokens.add("big " + i);
                    await(newcomerQueued); // holds the scheduler until the newcomer waits behind big 2 and big 3
                }
            }, MINUTE);
            CompletableFuture<GenerationResult> newcomer = scheduler.submit(GenerationRequest.greedy(TOKENIZER.encode("New"), 3),
                    (index, t, s) -> {
                        if (index == 0) {
                            firstTokens.add("newcomer");
                        }
                    }, MINUTE);
            newcomerQueued.countDown();
            newcomer.get(1, TimeUnit.MINUTES);
            bigOnes.forEach(CompletableFuture::join);
        }
        assertThat(firstTokens).hasSize(5);
        assertThat(firstTokens.indexOf("newcomer")).as("first tokens in order: %s", firstTokens)
                .isLessThan(firstTokens.indexOf("big 3"));
    }

    @Test
    void aRequestIsQueuedWholeOrRefusedWhole() throws Exception {
        GPTModel model = TestModels.seed123();
        int ctx = model.config().contextLength();
        // a request runs 2 of the 4 slots at most and waits in the 4 queue places: 6 sequences at most
        BatchScheduler.Limits limits = new BatchScheduler.Limits(4, 4, 4, 8 * ctx, 512).withRequestShare(0.5, ctx);
        CountDownLatch generating = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        GenerationRequest one = GenerationRequest.greedy(TOKENIZER.encode("Hi"), 2);
        try (BatchScheduler scheduler = new BatchScheduler(model, TOKENIZER, limits, GenerationObserver.NONE)) {
            assertThat(scheduler.maxSequencesPerRequest()).isEqualTo(6);
            assertThatThrownBy(() -> scheduler.submit(Collections.nCopies(7, one), i -> TokenListener.NONE, MINUTE))
                    .isInstanceOf(IllegalArgumentException.class);

            List<CompletableFuture<GenerationResult>> six = scheduler.submit(Collections.nCopies(6, one), i -> (index, t, s) -> {
                generating.countDown();
                await(release); // holds the scheduler while the places are counted
            }, MINUTE);
            assertThat(generating.await(1, TimeUnit.MINUTES)).isTrue();
            // claims 2 slots, its 4 others take the 4 queue places; 2 slots stay free for others
            assertThat(scheduler.occupancy()).isEqualTo(new BatchScheduler.Occupancy(2, 4, 2, 4, 4, 4));
            CompletableFuture<GenerationResult> single = scheduler.submit(one, TokenListener.NONE, MINUTE);
            assertThat(scheduler.occupancy().slotsClaimed()).isEqualTo(3);
            assertThatThrownBy(() -> scheduler.submit(List.of(one, one), i -> TokenListener.NONE, MINUTE))
                    .as("2 more slots claimed, 1 beyond the 4 there are, and no queue place left")
                    .isInstanceOf(OverloadedException.class);
            assertThat(scheduler.occupancy().slotsClaimed()).as("nothing of the refused request stays").isEqualTo(3);
            release.countDown();
            six.forEach(CompletableFuture::join);
            single.join();
            assertThat(scheduler.occupancy()).isEqualTo(new BatchScheduler.Occupancy(0, 0, 0, 4, 0, 4));
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
