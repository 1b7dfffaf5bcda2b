package com.scratchgpt.model;

import java.nio.FloatBuffer;

import com.scratchgpt.model.ParameterTable.Parameter;
import com.scratchgpt.model.kernel.WeightFormat;

/**
 * Builds the model exactly as {@code torch.manual_seed(seed); GPTModel(cfg)} initialises it: one
 * generator, the {@link ParameterTable}'s modules in the seeds' construction order, each drawn as its
 * {@link ParameterTable.Kind} says. The output head is a separate tensor, as in the seeds.
 */
public final class TorchInitializer {

    private TorchInitializer() {
    }

    public static GPTModel initialize(GPTConfig cfg, long seed) {
        return initialize(cfg, seed, WeightFormat.F32);
    }

    /** The same draws, each weight converted to {@code format} as soon as it is drawn. */
    public static GPTModel initialize(GPTConfig cfg, long seed, WeightFormat format) {
        return GPTModel.load(cfg, false, format, new Draws(cfg, new TorchRandom(seed)));
    }

    /** PyTorch's draws, handed out parameter by parameter in the table's order, which is the order they are drawn in. */
    private static final class Draws implements ParameterSource {

        private final GPTConfig cfg;
        private final TorchRandom rng;
        private FloatBuffer bias; // a linear layer's bias, drawn with its weight and asked for next

        Draws(GPTConfig cfg, TorchRandom rng) {
            this.cfg = cfg;
            this.rng = rng;
        }

        @Override
        public void read(Parameter p, FloatBuffer dst) {
            int n = Math.toIntExact(p.numel());
            switch (p.role()) {
                case WEIGHT -> {
                    if (p.row().kind() == ParameterTable.Kind.EMBEDDING) {
                        rng.normal(dst, 0, n);
                    } else {
                        boolean hasBias = p.row().parametersIn(cfg, p.layer()).size() > 1;
                        bias = hasBias ? FloatBuffer.allocate(Math.toIntExact(p.shape()[0])) : null;
                        linear(rng, p, dst, bias);
                    }
                }
                case BIAS -> dst.put(0, bias, 0, n);
                case SCALE -> fill(dst, n, 1f);
                case SHIFT -> fill(dst, n, 0f);
            }
        }
    }

    /**
     * nn.Linear.reset_parameters for a weight (out, in) and its bias (out) or null; a fused row runs it
     * for each of its stacked modules in turn, on their rows of the weight and the bias.
     */
    private static void linear(TorchRandom rng, Parameter param, FloatBuffer weight, FloatBuffer bias) {
        int parts = param.row().seedsModules().size();
        int out = Math.toIntExact(param.shape()[0]) / parts;
        int in = Math.toIntExact(param.shape()[1]);
        // kaiming_uniform_(a=sqrt(5)): gain = sqrt(2 / (1 + a^2)), bound = sqrt(3) * gain / sqrt(fan_in)
        double a = Math.sqrt(5);
        double gain = Math.sqrt(2.0 / (1 + a * a));
        double bound = Math.sqrt(3.0) * (gain / Math.sqrt(in));
        double biasBound = 1 / Math.sqrt(in);
        for (int part = 0; part < parts; part++) {
            rng.uniform(weight, part * out * in, out * in, -bound, bound);
            if (bias != null) {
                rng.uniform(bias, part * out, out, -biasBound, biasBound);
            }
        }
    }

    private static void fill(FloatBuffer dst, int n, float value) {
        for (int i = 0; i < n; i++) {
            dst.put(i, value);
        }
    }
}
