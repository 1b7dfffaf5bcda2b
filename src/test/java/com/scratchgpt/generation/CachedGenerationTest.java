package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.scratchgpt.Fixtures;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.ReferenceAssertions;
import com.scratchgpt.model.TestModels;
import com.scratchgpt.tokenizer.GPT2Tokenizer;
import com.scratchgpt.weights.CheckpointLoader;

/** The KV-cached engine gives exactly the seeds' uncached greedy tokens, whatever the prompt length. */
class CachedGenerationTest {

    @Test
    void promptReadInSmallChunksStillReproducesTheReference() {
        GPTModel model = CheckpointLoader.load(Fixtures.of("tiny-book").dir()).model();
        // 3-token prefill chunks: the 20-token prompt is read over 7 steps, and every crop past the
        // 24-token context re-reads the window in chunks
        try (BatchScheduler scheduler = new BatchScheduler(model, new GPT2Tokenizer(),
                new BatchScheduler.Limits(2, 2, 4, 48, 3), GenerationObserver.NONE)) {
            ReferenceAssertions.assertCachedGreedyRuns(scheduler, Fixtures.of("tiny-book"));
        }
    }

    @Test
    void theDefaultModelsShapesMatchTheSeedsLoopPastTheContextLength() {
        // two of GPT-2 small's blocks: its 1,024 positions, 12 heads of 64, at a sixth of the attention's cost
        GPTModel model = TestModels.seed123TwoBlocks();
        int ctx = model.config().contextLength();
        int[] prompt = new Random(7).ints(ctx + 2, 0, 50257).toArray();
        int[][] seeds = SimpleGenerator.generateTextSimple(model, new int[][] {prompt}, 2, ctx);
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            GenerationResult cached = scheduler.generate(GenerationRequest.greedy(prompt, 2));
            assertThat(cached.generatedTokens()).containsExactly(Arrays.copyOfRange(seeds[0], prompt.length, prompt.length + 2));
        }
    }

    @Test
    void defaultModelMatchesTheSeedsLoopOnALongerGreedyRun() {
        GPTModel model = TestModels.seed123();
        int[] prompt = new GPT2Tokenizer().encode("Every effort moves you");
        int[][] seeds = SimpleGenerator.generateTextSimple(model, new int[][] {prompt}, 24, model.config().contextLength());
        try (BatchScheduler scheduler = TestModels.scheduler(model)) {
            assertThat(scheduler.generate(GenerationRequest.greedy(prompt, 24)).generatedTokens())
                    .containsExactly(Arrays.copyOfRange(seeds[0], prompt.length, prompt.length + 24));
        }
    }
}
