package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.scratchgpt.model.TestModels;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** Temperature, top-k, top-p and seeds. */
class SamplingTest {

    static BatchScheduler scheduler;
    static final int[] PROMPT = new GPT2Tokenizer().encode("Hello, I am");

    @BeforeAll
    static void start() {
        scheduler = TestModels.scheduler(TestModels.seed123());
    }

    @AfterAll
    static void stop() {
        scheduler.close();
    }

    private static GenerationRequest sampled(double temperature, Integer topK, Double topP, Long seed) {
        return new GenerationRequest(PROMPT, 8, temperature, topK, topP, seed, List.of(), null);
    }

    @Test
    void theSameSeedGivesTheSameTokens() {
        int[] a = scheduler.generate(sampled(1.0, null, null, 42L)).generatedTokens();
        int[] b = scheduler.generate(sampled(1.0, null, null, 42L)).generatedTokens();
        int[] c = scheduler.generate(sampled(1.0, null, null, 43L)).generatedTokens();
        assertThat(a).containsExactly(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void topKOfOneAndATinyTopPAreGreedy() {
        int[] greedy = scheduler.generate(GenerationRequest.greedy(PROMPT, 8)).generatedTokens();
        assertThat(scheduler.generate(sampled(1.5, 1, null, 1L)).generatedTokens()).containsExactly(greedy);
        assertThat(scheduler.generate(sampled(1.5, null, 1e-9, 2L)).generatedTokens()).containsExactly(greedy);
    }

    @Test
    void drawsFollowSoftmaxOfLogitsOverTemperature() {
        FloatBuffer logits = FloatBuffer.wrap(new float[] {2f, 1f, 0f, -1f});
        double temperature = 0.7;
        Sampler sampler = new Sampler.Categorical(temperature, null, null, new SplittableRandom(5));
        int[] counts = new int[4];
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits, 0, 4)]++;
        }
        double z = 0;
        for (int i = 0; i < 4; i++) {
            z += Math.exp(logits.get(i) / temperature);
        }
        for (int i = 0; i < 4; i++) {
            assertThat(counts[i] / (double) n).isCloseTo(Math.exp(logits.get(i) / temperature) / z,
                    org.assertj.core.data.Offset.offset(0.005));
        }
    }

    @Test
    void topKAndTopPOnlyDrawFromTheKeptTokens() {
        FloatBuffer logits = FloatBuffer.wrap(new float[] {0f, 3f, 1f, 2f, -5f});
        Sampler topK = new Sampler.Categorical(1.0, 2, null, new SplittableRandom(1));
        // softmax of {3, 2, 1, 0, -5}: 0.644, 0.237, 0.087, 0.032, ... so p = 0.85 keeps tokens 1 and 3
        Sampler topP = new Sampler.Categorical(1.0, null, 0.85, new SplittableRandom(1));
        boolean[] seenK = new boolean[5];
        boolean[] seenP = new boolean[5];
        for (int i = 0; i < 20_000; i++) {
            seenK[topK.sample(logits, 0, 5)] = true;
            seenP[topP.sample(logits, 0, 5)] = true;
        }
        assertThat(seenK).containsExactly(false, true, false, true, false);
        assertThat(seenP).containsExactly(false, true, false, true, false);
    }
}
