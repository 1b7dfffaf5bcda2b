package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.scratchgpt.model.kernel.WeightFormat;

/**
 * Bitwise batch invariance of the forward pass, in every weight format: a sequence's logits have the same
 * bits at every step whether the step runs it alone, among 31 other sequences, or among a number of them
 * that changes every step, whatever the others run (decode rows, short and long prompt chunks) and wherever
 * its chunk sits among theirs. The sequence's own chunks are the same in every run (the scheduler keeps
 * them so, BatchingTest); everything around them changes.
 */
class BatchInvarianceTest {

    /** Head sizes of 32 (whole vectors) and 18 (a part of a vector left over); biases everywhere. */
    private static final List<GPTConfig> CONFIGS = List.of(
            new GPTConfig(50257, 96, 192, 6, 3, 0.0, true),
            new GPTConfig(50257, 64, 90, 5, 2, 0.0, true));

    private static final int MAX_ROWS = 31 * 24 + 20;

    static Stream<Arguments> formatsAndConfigs() {
        return Stream.of(WeightFormat.values()).flatMap(f -> CONFIGS.stream().map(c -> Arguments.of(f, c)));
    }

    @ParameterizedTest(name = "{0}, emb {1}")
    @MethodSource("formatsAndConfigs")
    void aSequencesLogitsHaveTheSameBitsAloneAndAmongOthers(WeightFormat format, GPTConfig cfg) {
        GPTModel model = TorchInitializer.initialize(cfg, 5, format);
        Random random = new Random(31);
        int[] tokens = random.ints(37, 0, cfg.vocabSize()).toArray();
        // a prompt read as a long chunk and a short one, then one token a step
        List<int[]> schedule = new ArrayList<>(List.of(new int[] {0, 20}, new int[] {20, 25}));
        for (int t = 25; t < tokens.length; t++) {
            schedule.add(new int[] {t, t + 1});
        }

        int[][] alone = run(model, tokens, schedule, step -> 0, random);
        int[][] among31 = run(model, tokens, schedule, step -> 31, random);
        int[][] amongSome = run(model, tokens, schedule, step -> 1 + random.nextInt(31), random);

        for (int s = 0; s < schedule.size(); s++) {
            assertThat(differences(among31[s], alone[s])).as("%s: logits differing at step %d among 31 others", format, s)
                    .isZero();
            assertThat(differences(amongSome[s], alone[s]))
                    .as("%s: logits differing at step %d among a changing number of others", format, s).isZero();
        }
    }

    private static int differences(int[] a, int[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] == b[i] ? 0 : 1;
        }
        return n;
    }

    /** How many others run beside the sequence at a step. */
    private interface Company {
        int at(int step);
    }

    /** The bits of the sequence's logits at each step of its schedule, run with this company. */
    private static int[][] run(GPTModel model, int[] tokens, List<int[]> schedule, Company company, Random random) {
        GPTConfig cfg = model.config();
        Activations act = new Activations(cfg, MAX_ROWS, 32);
        KVCache cache = new KVCache(cfg, tokens.length);
        List<KVCache> others = new ArrayList<>();
        for (int i = 0; i < 31; i++) {
            others.add(new KVCache(cfg, cfg.contextLength()));
        }
        int[][] bits = new int[schedule.size()][];
        for (int s = 0; s < schedule.size(); s++) {
            List<SequenceChunk> chunks = new ArrayList<>();
            for (int i = 0; i < company.at(s); i++) {
                // another sequence decoding (one token), reading a short prompt chunk, or a long one
                KVCache other = others.get(i);
                int n = switch (random.nextInt(3)) {
                    case 0 -> 1;
                    case 1 -> 2 + random.nextInt(Linear.MAX_KERNEL_CHUNK - 1);
                    default -> Linear.MAX_KERNEL_CHUNK + 1 + random.nextInt(24 - Linear.MAX_KERNEL_CHUNK);
                };
                if (other.length() + n > other.capacity()) {
                    other.clear();
                }
                chunks.add(new SequenceChunk(random.ints(n, 0, cfg.vocabSize()).toArray(), other));
            }
            int at = random.nextInt(chunks.size() + 1);
            int[] range = schedule.get(s);
            chunks.add(at, new SequenceChunk(java.util.Arrays.copyOfRange(tokens, range[0], range[1]), cache));

            model.forward(chunks, act);

            bits[s] = new int[cfg.vocabSize()];
            for (int v = 0; v < cfg.vocabSize(); v++) {
                bits[s][v] = Float.floatToRawIntBits(act.logits().buffer().get(at * cfg.vocabSize() + v));
            }
        }
        return bits;
    }
}
