package com.scratchgpt.model;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.scratchgpt.model.ParameterTable.Parameter;
import com.scratchgpt.model.ParameterTable.Role;

/**
 * Builds the model exactly as {@code torch.manual_seed(seed); GPTModel(cfg)} initialises it: one
 * generator, the {@link ParameterTable}'s modules in the seeds' construction order, each drawn as its
 * {@link ParameterTable.Kind} says. The output head is a separate tensor, as in the seeds.
 */
public final class TorchInitializer {

    private TorchInitializer() {
    }

    public static GPTModel initialize(GPTConfig cfg, long seed) {
        TorchRandom rng = new TorchRandom(seed);
        List<Parameter> table = ParameterTable.parameters(cfg, false);
        Map<String, Tensor> p = new LinkedHashMap<>();
        table.forEach(param -> p.put(param.name(), Tensor.zeros(param.shape())));
        for (Parameter param : table) {
            Tensor t = p.get(param.name());
            switch (param.role()) {
                case WEIGHT -> {
                    if (param.row().kind() == ParameterTable.Kind.EMBEDDING) {
                        rng.normal(t.buffer(), 0, Math.toIntExact(t.length()));
                    } else {
                        linear(rng, param, t, p.get(param.row().name(param.layer(), Role.BIAS)));
                    }
                }
                case BIAS -> {
                    // drawn with its weight: each nn.Linear draws its weight, then its bias
                }
                case SCALE -> ones(t);
                case SHIFT -> {
                    // zeros, as allocated
                }
            }
        }
        return GPTModel.of(cfg, p);
    }

    /**
     * nn.Linear.reset_parameters for a weight (out, in) and its bias (out) or null; a fused row runs it
     * for each of its stacked modules in turn, on their rows of the weight and the bias.
     */
    private static void linear(TorchRandom rng, Parameter param, Tensor weight, Tensor bias) {
        int parts = param.row().seedsModules().size();
        int out = Math.toIntExact(param.shape()[0]) / parts;
        int in = Math.toIntExact(param.shape()[1]);
        // kaiming_uniform_(a=sqrt(5)): gain = sqrt(2 / (1 + a^2)), bound = sqrt(3) * gain / sqrt(fan_in)
        double a = Math.sqrt(5);
        double gain = Math.sqrt(2.0 / (1 + a * a));
        double bound = Math.sqrt(3.0) * (gain / Math.sqrt(in));
        double biasBound = 1 / Math.sqrt(in);
        for (int part = 0; part < parts; part++) {
            rng.uniform(weight.buffer(), part * out * in, out * in, -bound, bound);
            if (bias != null) {
                rng.uniform(bias.buffer(), part * out, out, -biasBound, biasBound);
            }
        }
    }

    private static void ones(Tensor t) {
        FloatBuffer b = t.buffer();
        for (int i = 0; i < t.length(); i++) {
            b.put(i, 1f);
        }
    }
}
