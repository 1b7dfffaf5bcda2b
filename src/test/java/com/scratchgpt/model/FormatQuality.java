package com.scratchgpt.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

import com.scratchgpt.Fixtures;

/**
 * How far a model in another weight format is from the same weights in f32, over a fixture's inputs: the
 * KL divergence KL(f32 || other) of the next-token distribution and whether the greedy choice agrees, at
 * every position of the logits batch and at every step of the fixture's greedy runs (each step's window as
 * the seeds crop it, fed the reference run's tokens, so that both models see the same inputs throughout).
 *
 * @param meanKl  mean over the positions, in nats
 * @param maxKl   the largest
 * @param agreed  positions where both models' most likely token is the same
 * @param steps   positions compared
 */
public record FormatQuality(double meanKl, double maxKl, int agreed, int steps) {

    public static FormatQuality measure(GPTModel f32, GPTModel other, Fixtures fixture) {
        List<int[]> windows = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        for (int[] row : fixture.logitsBatch()) {
            for (int t = 0; t < row.length; t++) {
                windows.add(row);
                positions.add(t);
            }
        }
        int ctx = f32.config().contextLength();
        for (Fixtures.Run run : fixture.runs()) {
            int[] tokens = Arrays.copyOf(run.prompt(), run.prompt().length + run.generated().length);
            System.arraycopy(run.generated(), 0, tokens, run.prompt().length, run.generated().length);
            for (int s = 0; s < run.generated().length; s++) {
                int end = run.prompt().length + s;
                int[] window = Arrays.copyOfRange(tokens, Math.max(0, end - ctx), end);
                windows.add(window);
                positions.add(window.length - 1);
            }
        }
        double sum = 0;
        double max = 0;
        int agreed = 0;
        for (int i = 0; i < windows.size(); i++) {
            float[] p = lastLogits(f32, windows.get(i), positions.get(i));
            float[] q = lastLogits(other, windows.get(i), positions.get(i));
            double kl = kl(p, q);
            sum += kl;
            max = Math.max(max, kl);
            agreed += argmax(p) == argmax(q) ? 1 : 0;
        }
        return new FormatQuality(sum / windows.size(), max, agreed, windows.size());
    }

    /** The logits at {@code position} of the seeds' forward over {@code window}. */
    private static float[] lastLogits(GPTModel model, int[] window, int position) {
        INDArray logits = model.forward(new int[][] {window});
        int vocab = model.config().vocabSize();
        float[] all = logits.reshape(-1).toFloatVector();
        return Arrays.copyOfRange(all, position * vocab, (position + 1) * vocab);
    }

    /** KL(softmax(p) || softmax(q)) in double, in nats. */
    static double kl(float[] p, float[] q) {
        double[] lp = logSoftmax(p);
        double[] lq = logSoftmax(q);
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
        }
        return Math.max(kl, 0);
    }

    private static double[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : x) {
            sum += Math.exp(v - max);
        }
        double log = max + Math.log(sum);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] - log;
        }
        return out;
    }

    private static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }
}
