package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.FloatBuffer;
import java.util.Arrays;
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

    @Test
    void topKKeepsTheSameTokensInTheSameOrderAsRankingTheWholeVocabulary() {
        SplittableRandom random = new SplittableRandom(11);
        int vocab = 50_257;
        for (int trial = 0; trial < 20; trial++) {
            float[] values = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                // few distinct values, so that ties are everywhere; negative zero, infinities and extremes too
                values[i] = switch (random.nextInt(40)) {
                    case 0 -> Float.NEGATIVE_INFINITY;
                    case 1 -> -0f;
                    case 2 -> 0f;
                    case 3 -> Float.MAX_VALUE / 4;
                    default -> random.nextInt(trial % 2 == 0 ? 50 : 5_000) / 8f - 3f;
                };
            }
            if (trial == 0) {
                values[vocab - 1] = 1e30f; // the likeliest is the last token
            }
            int topK = 1 + random.nextInt(trial < 10 ? 64 : vocab);
            FloatBuffer logits = FloatBuffer.wrap(values);
            Sampler.Distribution d = new Sampler.Categorical(0.9, topK, null, new SplittableRandom(1))
                    .distribution(logits, 0, vocab);
            Integer[] ranked = ranking(values);
            assertThat(d.kept()).isEqualTo(topK);
            for (int i = 0; i < topK; i++) {
                assertThat(d.token(i)).as("trial %d, top-k %d, rank %d", trial, topK, i).isEqualTo(ranked[i]);
            }
        }
    }

    @Test
    void topPAloneKeepsTheSmallestLikeliestSetReachingP() {
        SplittableRandom random = new SplittableRandom(12);
        int vocab = 50_257;
        double temperature = 0.8;
        // nuclei of a few tokens, of hundreds and of thousands: past the first ranking of 64 and its growths
        for (double spread : new double[] {0.5, 4, 40}) {
            for (double topP : new double[] {0.1, 0.5, 0.9, 0.99, 1.0}) {
                float[] values = new float[vocab];
                for (int i = 0; i < vocab; i++) {
                    values[i] = (float) (random.nextDouble() * spread * (random.nextInt(3) == 0 ? 1 : 0.25));
                }
                Sampler.Distribution d = new Sampler.Categorical(temperature, null, topP, new SplittableRandom(1))
                        .distribution(FloatBuffer.wrap(values), 0, vocab);
                Integer[] ranked = ranking(values);
                double max = values[ranked[0]] / temperature;
                double all = 0;
                for (float v : values) {
                    all += Math.exp(v / temperature - max);
                }
                double cumulative = 0;
                int nucleus = 0;
                while (nucleus < vocab && cumulative < topP * all) {
                    cumulative += Math.exp(values[ranked[nucleus++]] / temperature - max);
                }
                assertThat(d.kept()).as("spread %s, top-p %s", spread, topP).isEqualTo(nucleus);
                for (int i = 0; i < nucleus; i++) {
                    assertThat(d.token(i)).as("spread %s, top-p %s, rank %d", spread, topP, i).isEqualTo(ranked[i]);
                }
                assertThat(d.probability(ranked[0])).isCloseTo(Math.exp(0) / cumulative, within(1e-12));
            }
        }
    }

    /** Every token, most likely first, the lower id first among equal logits (Float.compare: -0 below 0). */
    private static Integer[] ranking(float[] values) {
        Integer[] ranked = new Integer[values.length];
        for (int i = 0; i < values.length; i++) {
            ranked[i] = i;
        }
        Arrays.sort(ranked, (a, b) -> {
            int byValue = Float.compare(values[b], values[a]);
            return byValue != 0 ? byValue : Integer.compare(a, b);
        });
        return ranked;
    }
}
