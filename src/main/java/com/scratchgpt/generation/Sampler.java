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
     * The tokens a sampler may draw and their weights: token {@code i} is drawn with probability
     * {@code weight(i) / total()}; every other token never. Most likely first under top-k or top-p; in id order
     * when every token may be drawn. A draw walks them in that order.
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
        /** Tokens top-p ranks first when top-k does not bound it: enough for most nuclei. */
        private static final int FIRST_RANKED = 64;

        private final double temperature;
        private final Integer topK;
        private final Double topP;
        private final SplittableRandom random;
        private long[] order = new long[0];
        private int[] tokens = new int[0];
        private double[] weights = new double[0];
        private double[] byId = new double[0]; // top-p alone: every token's weight, by id

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
            if (tokens.length != vocab) {
                tokens = new int[vocab];
                weights = new double[vocab];
            }
            if (topK == null && topP == null) {
                return everyToken(logits, offset, vocab);
            }
            if (order.length != vocab) {
                order = new long[vocab];
            }
            // most likely first: (value, index) pairs packed into longs, smaller for likelier, ties to the lower index
            for (int i = 0; i < vocab; i++) {
                int bits = Float.floatToIntBits(logits.get(offset + i));
                int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
                order[i] = ((long) ~sortable << 32) | i;
            }
            int kept = topK == null ? vocab : Math.min(topK, vocab);
            // only as many of the likeliest as the filters keep are ranked: the same tokens in the same order as
            // ranking them all (the keys are distinct), at a fraction of the cost (ranking GPT-2's 50,257 logits
            // took 3 ms a token). Top-p alone ranks 64 first, then 16 times more, then all, until the nucleus is complete.
            int ranked = topK == null ? Math.min(vocab, FIRST_RANKED) : kept;
            rank(vocab, ranked);
            double max = logits.get(offset + index(order[0])) / temperature;
            double total = 0;
            if (topK != null) {
                for (int i = 0; i < kept; i++) {
                    total += weigh(logits, offset, i, max);
                }
            } else {
                if (byId.length != vocab) {
                    byId = new double[vocab];
                }
                for (int i = 0; i < vocab; i++) {
                    byId[i] = Math.exp(logits.get(offset + i) / temperature - max);
                    total += byId[i];
                }
            }
            if (topP == null) {
                return new Distribution(tokens, weights, kept, total);
            }
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < kept) {
                if (nucleus == ranked) {
                    // past a quarter of the vocabulary, one sort of it all is cheaper than selecting
                    int more = 16L * ranked > vocab / 4 ? vocab : 16 * ranked;
                    rank(vocab, more); // the first `ranked` stay as they are: they are the likeliest of the more
                    ranked = more;
                }
                if (topK == null) {
                    tokens[nucleus] = index(order[nucleus]);
                    weights[nucleus] = byId[tokens[nucleus]];
                }
                cumulative += weights[nucleus++];
                if (cumulative >= topP * total) {
                    break;
                }
            }
            return new Distribution(tokens, weights, nucleus, cumulative);
        }

        /** No filter: every token, in id order (nothing to rank), drawn with probability softmax(logits / temperature). */
        private Distribution everyToken(FloatBuffer logits, int offset, int vocab) {
            float maxLogit = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                maxLogit = Math.max(maxLogit, logits.get(offset + i));
            }
            double max = maxLogit / temperature;
            double total = 0;
            for (int i = 0; i < vocab; i++) {
                tokens[i] = i;
                weights[i] = Math.exp(logits.get(offset + i) / temperature - max);
                total += weights[i];
            }
            return new Distribution(tokens, weights, vocab, total);
        }

        /** The {@code ranked} likeliest keys of order[0..vocab) into order[0..ranked), most likely first. */
        private void rank(int vocab, int ranked) {
            if (ranked < vocab) {
                selectSmallest(order, vocab, ranked);
            }
            Arrays.sort(order, 0, ranked);
        }

        /** Token i of the ranking into tokens[i] with its weight exp(logit / temperature - max); returns the weight. */
        private double weigh(FloatBuffer logits, int offset, int i, double max) {
            tokens[i] = index(order[i]);
            weights[i] = Math.exp(logits.get(offset + tokens[i]) / temperature - max);
            return weights[i];
        }

        private static int index(long packed) {
            return (int) packed;
        }

        /**
         * Moves the k smallest of a[0..n) into a[0..k), in no particular order, the others into a[k..n): a
         * max-heap of the k smallest seen so far, in a[0..k), whose root each later, smaller value swaps with.
         */
        private static void selectSmallest(long[] a, int n, int k) {
            if (k >= n) {
                return;
            }
            for (int i = k / 2 - 1; i >= 0; i--) {
                siftDown(a, i, k);
            }
            for (int i = k; i < n; i++) {
                if (a[i] < a[0]) {
                    long evicted = a[0]; // swapped, not overwritten: a stays a permutation, for a later, larger k
                    a[0] = a[i];
                    a[i] = evicted;
                    siftDown(a, 0, k);
                }
            }
        }

        /** Restores the max-heap a[0..size) below position i. */
        private static void siftDown(long[] a, int i, int size) {
            long v = a[i];
            for (int child = 2 * i + 1; child < size; child = 2 * i + 1) {
                if (child + 1 < size && a[child + 1] > a[child]) {
                    child++;
                }
                if (a[child] <= v) {
                    break;
                }
                a[i] = a[child];
                i = child;
            }
            a[i] = v;
        }
    }
}
