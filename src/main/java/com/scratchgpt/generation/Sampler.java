package com.scratchgpt.generation;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits. What it draws from is {@link #distribution}: sampling and
 * the inspector's {@code sampledProb} read the same numbers.
 */
public interface Sampler {

    /** @param logits the buffer holding the row; {@code offset} its first element; {@code vocab} its length */
    int sample(FloatBuffer logits, int offset, int vocab);

    /** The distribution {@link #sample} draws from for this row of logits; valid until the sampler's next call. */
    Distribution distribution(FloatBuffer logits, int offset, int vocab);

    /** The seeds' choice: the most likely token (the first one on ties, as torch.argmax). */
    Sampler ARGMAX = new Argmax();

    /** Greedy for temperature 0, otherwise sampling with the request's filters and seed. */
    static Sampler of(GenerationRequest r) {
        return of(r.temperature(), r.topK(), r.topP(), r.seed());
    }

    /** Greedy for temperature 0, otherwise sampling with these filters; a null seed draws a random one. */
    static Sampler of(double temperature, Integer topK, Double topP, Long seed) {
        if (temperature == 0.0) {
            return ARGMAX;
        }
        long s = seed != null ? seed : new SplittableRandom().nextLong();
        return new Categorical(temperature, topK, topP, new SplittableRandom(s));
    }

    /**
     * The tokens a sampler may draw, most likely first, and their weights: token {@code i} is drawn with
     * probability {@code weight(i) / total()}; every other token never.
     */
    final class Distribution {
        private final int[] tokens;
        private final double[] weights;
        private final int kept;
        private final double total;

        Distribution(int[] tokens, double[] weights, int kept, double total) {
            this.tokens = tokens;
            this.weights = weights;
            this.kept = kept;
            this.total = total;
        }

        /** How many tokens may be drawn. */
        public int kept() {
            return kept;
        }

        public int token(int i) {
            return tokens[i];
        }

        /** The probability that a draw gives {@code token}: 0 for a token filtered out. */
        public double probability(int token) {
            for (int i = 0; i < kept; i++) {
                if (tokens[i] == token) {
                    return weights[i] / total;
                }
            }
            return 0.0;
        }

        /** One draw, u uniform in [0, 1): the first token whose cumulative weight passes u * total. */
        int draw(double u) {
            double rest = u * total;
            for (int i = 0; i < kept; i++) {
                rest -= weights[i];
                if (rest < 0) {
                    return tokens[i];
                }
            }
            return tokens[kept - 1];
        }
    }

    /** Temperature 0: all the probability on the largest logit. */
    final class Argmax implements Sampler {

        private Argmax() {
        }

        @Override
        public int sample(FloatBuffer logits, int offset, int vocab) {
            return argmax(logits, offset, vocab);
        }

        @Override
        public Distribution distribution(FloatBuffer logits, int offset, int vocab) {
            return new Distribution(new int[] {argmax(logits, offset, vocab)}, new double[] {1.0}, 1, 1.0);
        }

        private static int argmax(FloatBuffer logits, int offset, int vocab) {
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
        }
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
        private int[] tokens = new int[0];
        private double[] weights = new double[0];

        Categorical(double temperature, Integer topK, Double topP, SplittableRandom random) {
            this.temperature = temperature;
            this.topK = topK;
            this.topP = topP;
            this.random = random;
        }

        @Override
        public int sample(FloatBuffer logits, int offset, int vocab) {
            return distribution(logits, offset, vocab).draw(random.nextDouble());
        }

        @Override
        public Distribution distribution(FloatBuffer logits, int offset, int vocab) {
            if (order.length != vocab) {
                order = new long[vocab];
                tokens = new int[vocab];
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
                tokens[i] = index(order[i]);
                weights[i] = Math.exp(logits.get(offset + tokens[i]) / temperature - max);
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
            return new Distribution(tokens, weights, kept, total);
        }

        private static int index(long packed) {
            return (int) packed;
        }
    }
}
