package com.scratchgpt.model;

import java.nio.FloatBuffer;

import com.scratchgpt.model.kernel.Gelu;
import com.scratchgpt.model.kernel.WeightMatrix;

/** The seeds' FeedForward: Linear(emb, 4 emb), GELU, Linear(4 emb, emb). */
public final class FeedForward {

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    private static final boolean KERNELS = WeightMatrix.kernelsAvailable();

    /** An element's GELU in {@link ParallelLoop}'s units of work: a lane of a vector exp, or a scalar one. */
    private static final long GELU_COST = KERNELS ? 3 : 16;

    private final Linear fc;   // layers.0: (4 emb, emb)
    private final Linear proj; // layers.2: (emb, 4 emb)
    private final int hiddenDim;

    public FeedForward(Linear fc, Linear proj) {
        this.fc = fc;
        this.proj = proj;
        this.hiddenDim = fc.outFeatures();
    }

    /** in (rows, emb) -> out (rows, emb), through act.hidden (rows, 4 emb). */
    void forward(Activations act, Tensor in, Tensor out) {
        fc.forward(act, in, act.hidden);
        gelu(act.hidden, act.rows * hiddenDim);
        proj.forward(act, act.hidden, out);
    }

    /**
     * The seeds' GELU on the first n values of t, in place: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
     * With the Vector API, in float32 ({@link Gelu}); without it, in double, tanh(u) computed as
     * 1 - 2 / (exp(2u) + 1): the same function, several times faster than Math.tanh.
     */
    static void gelu(Tensor t, int n) {
        FloatBuffer b = t.buffer();
        ParallelLoop.forRange(n, GELU_COST, (from, to) -> {
            if (KERNELS) {
                Gelu.apply(b, from, to);
                return;
            }
            for (int i = from; i < to; i++) {
                double x = b.get(i);
                double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
                double tanh = 1.0 - 2.0 / (Math.exp(2.0 * u) + 1.0);
                b.put(i, (float) (0.5 * x * (1.0 + tanh)));
            }
        });
    }
}
