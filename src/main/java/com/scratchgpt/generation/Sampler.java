package com.scratchgpt.generation;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from one row of logits. */
public interface Sampler {

    /** @param logits the buffer holding the row; {@code offset} its first element; {@code vocab} its length */
    int sample(FloatBuffer logits, int offset, int vocab);

    /** The seeds' choice: the most likely token (the first one on ties, as torch.argmax). */
    Sampler ARGMAX = (logits, offset, vocab) -> {
        int best = 0;
        float max = logits.get(offset);
        for (int i = 1; i < vocab; i++) {
            float v = logits.get(offset + i);
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    };

    /** Greedy for temperature 0, otherwise sampling with the request's filters and seed. */
    static Sampler of(GenerationRequest r) {
        if (r.greedy()) {
            return ARGMAX;
        }
        long seed = r.seed() != null ? r.seed() : new SplittableRandom().nextLong();
        return new Categorical(r.temperature(), r.topK(), r.topP(), new SplittableRandom(seed));
    }

    /**
     * Draws from softmax(logits / temperature), after keeping only the topK most likely tokens and
     * then the smallest most-likely set whose probability reaches topP.
     */
    final class Categorical implements Sampler {
        private final double temperature;
        private final Integer topK;
        private final Double topP;
        private final SplittableRandom random;
        private long[] order = new long[0];
        private double[] weights = new double[0];

        Categorical(double temperature, Integer topK, Double topP, SplittableRandom random) {
            this.temperature = temperature;
            this.topK = topK;
            this.topP = topP;
            this.random = random;
        }

        @Override
        public int sample(FloatBuffer logits, int offset, int vocab) {
            if (order.length != vocab) {
                order = new long[vocab];
                weights = new double[vocab];
            }
            // most likely first: sort (value, index) pairs packed into longs
            for (int i = 0; i < vocab; i++) {
                int bits = Float.floatToIntBits(logits.get(offset + i));
                int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
                order[i] = ((long) ~sortable << 32) | i;
            }
            Arrays.sort(order);
            int kept = topK == null ? vocab : Math.min(topK, vocab);
            double max = logits.get(offset + index(order[0])) / temperature;
            double total = 0;
            for (int i = 0; i < kept; i++) {
                weights[i] = Math.exp(logits.get(offset + index(order[i])) / temperature - max);
                total += weights[i];
            }
            if (topP != null) {
                double cumulative = 0;
                int nucleus = 0;
                while (nucleus < kept) {
                    cumulative += weights[nucleus++];
                    if (cumulative >= topP * total) {
                        break;
                    }
                }
                kept = nucleus;
                total = cumulative;
            }
            double u = random.nextDouble() * total;
            for (int i = 0; i < kept; i++) {
                u -= weights[i];
                if (u < 0) {
                    return index(order[i]);
                }
            }
            return index(order[kept - 1]);
        }

        private static int index(long packed) {
            return (int) packed;
        }
    }
}
