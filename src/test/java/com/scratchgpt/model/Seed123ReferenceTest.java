package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.scratchgpt.Fixtures;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** The default model, GPT_CONFIG_124M after torch.manual_seed(123), against PyTorch. */
class Seed123ReferenceTest {

    static final Fixtures FIXTURE = Fixtures.of("gpt2-small-seed123");
    static GPTModel model;

    @BeforeAll
    static void build() {
        model = TestModels.seed123();
    }

    @Test
    void initialisationReproducesPyTorchLogitsWithin2e3() {
        ReferenceAssertions.assertLogits(model, FIXTURE, 2e-3);
    }

    @Test
    void seedsLoopReproducesTheGreedyRuns() {
        ReferenceAssertions.assertSimpleGreedyRuns(model, FIXTURE);
    }

    @Test
    void cachedGeneratorReproducesTheGreedyRunsAndLogprobs() {
        ReferenceAssertions.assertCachedGreedyRuns(model, FIXTURE);
    }

    @Test
    void continuesHelloIAmAsTheBookPrints() {
        GPT2Tokenizer tokenizer = new GPT2Tokenizer();
        int[] prompt = tokenizer.encode("Hello, I am");
        assertThat(prompt).containsExactly(15496, 11, 314, 716);
        try (var scheduler = TestModels.scheduler(model)) {
            var result = scheduler.generate(GenerationRequest.greedy(prompt, 6));
            assertThat(result.generatedText()).isEqualTo(" Featureiman Byeswickattribute argue");
        }
    }

    @Test
    void parameterCountsMatchTheSeeds() {
        ParameterCount count = ParameterCount.of(model.config(), model.tiedOutputHead());
        assertThat(count.totalParameters()).isEqualTo(FIXTURE.totalParams()).isEqualTo(163_009_536L);
        assertThat(count.parametersWithWeightTying()).isEqualTo(124_412_160L);
        assertThat(count.components().transformerBlocks()).isEqualTo(85_026_816L);
        assertThat(count.perBlock().total()).isEqualTo(7_085_568L);
        // exercise 4.1: the parameters of one block's feed-forward and attention modules
        assertThat(count.perBlock().feedForward()).isEqualTo(4_722_432L);
        assertThat(count.perBlock().attention()).isEqualTo(2_360_064L);
        assertThat(count.sizeMb()).isEqualTo(621.83);
        assertThat(model.residentBytes()).isEqualTo(count.sizeBytes());
    }
}
