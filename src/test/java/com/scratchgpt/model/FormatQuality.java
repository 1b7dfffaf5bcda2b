package com.scratchgpt.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import org.nd4j.linalg.api.ndarray.INDArray;

import com.scratchgpt.Fixtures;

/**
 * How far a model in another weight format is from the same weights in f32, over a fixture's inputs: the
 * KL divergence KL(f32 || other) of the next-token distribution and whether the greedy choice agrees, at
 * every position of the logits batch and at every step of the fixture's greedy runs (each step's window as
 * the seeds crop it, fed the reference run's tokens, so that both models see the same inputs throughout).
 * The model is causal, so one forward over a run's tokens gives every step whose window starts at the run's
 * first token; only a step past the context needs a forward of its own.
 *
 * @param meanKl  mean over the positions, in nats
 * @param maxKl   the largest
 * @param agreed  positions where both models' most likely token is the same
 * @param steps   positions compared
 */
public record FormatQuality(double meanKl, double maxKl, int agreed, int steps) {

    /** A forward's input and the positions whose logits are compared. */
    private record Probe(int[] tokens, int[] positions) {
    }

    /** Each of {@code others} against {@code f32}, in their order, over the same f32 forwards. */
    public static List<FormatQuality> measure(GPTModel f32, Fixtures fixture, GPTModel... others) {
        List<Probe> probes = new ArrayList<>();
        for (int[] row : fixture.logitsBatch()) {
            probes.add(new Probe(row, IntStream.range(0, row.length).toArray()));
        }
        int ctx = f32.config().contextLength();
        for (Fixtures.Run run : fixture.runs()) {
            int[] tokens = Arrays.copyOf(run.prompt(), run.prompt().length + run.generated().length);
            System.arraycopy(run.generated(), 0, tokens, run.prompt().length, run.generated().length);
            int firstEnd = run.prompt().length;
            int lastEnd = firstEnd + run.generated().length - 1; // step s reads tokens [.., firstEnd + s)
            int lastUncropped = Math.min(lastEnd, ctx);
            if (firstEnd <= lastUncropped) {
                probes.add(new Probe(Arrays.copyOf(tokens, lastUncropped),
                        IntStream.rangeClosed(firstEnd, lastUncropped).map(end -> end - 1).toArray()));
            }
            for (int end = Math.max(firstEnd, ctx + 1); end <= lastEnd; end++) {
                probes.add(new Probe(Arrays.copyOfRange(tokens, end - ctx, end), new int[] {ctx - 1}));
            }
        }
        double[] sum = new double[others.length];
        double[] max = new double[others.length];
        int[] agreed = new int[others.length];
        int steps = 0;
        for (Probe probe : probes) {
            float[][] p = logits(f32, probe);
            for (int m = 0; m < others.length; m++) {
                float[][] q = logits(others[m], probe);
                for (int i = 0; i < p.length; i++) {
                    double kl = kl(p[i], q[i]);
                    sum[m] += kl;
                    max[m] = Math.max(max[m], kl);
                    agreed[m] += argmax(p[i]) == argmax(q[i]) ? 1 : 0;
                }
            }
            steps += p.length;
        }
        List<FormatQuality> qualities = new ArrayList<>();
        for (int m = 0; m < others.length; m++) {
            qualities.add(new FormatQuality(sum[m] / steps, max[m], agreed[m], steps));
        }
        return qualities;
    }

    /** The logits at each of the probe's positions of the seeds' forward over its tokens. */
    private static float[][] logits(GPTModel model, Probe probe) {
        INDArray logits = model.forward(new int[][] {probe.tokens()});
        int vocab = model.config().vocabSize();
        float[] all = logits.reshape(-1).toFloatVector();
        float[][] rows = new float[probe.positions().length][];
        for (int i = 0; i < rows.length; i++) {
            int position = probe.positions()[i];
            rows[i] = Arrays.copyOfRange(all, position * vocab, (position + 1) * vocab);
        }
        return rows;
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
