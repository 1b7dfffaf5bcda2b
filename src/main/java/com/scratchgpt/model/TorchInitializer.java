package com.scratchgpt.model;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds the model exactly as {@code torch.manual_seed(seed); GPTModel(cfg)} initialises it: one
 * generator, modules in construction order, nn.Embedding weights {@code normal_(0, 1)}, nn.Linear
 * weights {@code kaiming_uniform_(a=sqrt(5))} then biases {@code uniform_(-1/sqrt(fan_in), 1/sqrt(fan_in))},
 * LayerNorm scale ones and shift zeros. The output head is a separate tensor, as in the seeds.
 */
public final class TorchInitializer {

    private TorchInitializer() {
    }

    public static GPTModel initialize(GPTConfig cfg, long seed) {
        TorchRandom rng = new TorchRandom(seed);
        Map<String, Tensor> p = new LinkedHashMap<>();
        GPTModel.parameterShapes(cfg, false).forEach((name, shape) -> p.put(name, Tensor.zeros(shape)));
        int e = cfg.embDim();

        embedding(rng, p.get("tok_emb.weight"));
        embedding(rng, p.get("pos_emb.weight"));
        for (int i = 0; i < cfg.nLayers(); i++) {
            String b = "trf_blocks." + i + ".";
            Tensor qkvWeight = p.get(b + "att.qkv.weight");
            Tensor qkvBias = p.get(b + "att.qkv.bias");
            for (int part = 0; part < 3; part++) { // W_query, W_key, W_value: rows of the fused projection
                linear(rng, qkvWeight, part * e * e, e, e, qkvBias, part * e);
            }
            linear(rng, p.get(b + "att.out_proj.weight"), 0, e, e, p.get(b + "att.out_proj.bias"), 0);
            linear(rng, p.get(b + "ff.layers.0.weight"), 0, 4 * e, e, p.get(b + "ff.layers.0.bias"), 0);
            linear(rng, p.get(b + "ff.layers.2.weight"), 0, e, 4 * e, p.get(b + "ff.layers.2.bias"), 0);
            ones(p.get(b + "norm1.scale"));
            ones(p.get(b + "norm2.scale"));
        }
        ones(p.get("final_norm.scale"));
        linear(rng, p.get("out_head.weight"), 0, cfg.vocabSize(), e, null, 0);
        return GPTModel.of(cfg, p);
    }

    private static void embedding(TorchRandom rng, Tensor weight) {
        rng.normal(weight.buffer(), 0, Math.toIntExact(weight.length()));
    }

    /** nn.Linear.reset_parameters for an (out, in) weight at weightOffset and its bias (if any) at biasOffset. */
    private static void linear(TorchRandom rng, Tensor weight, int weightOffset, int out, int in,
                               Tensor bias, int biasOffset) {
        // kaiming_uniform_(a=sqrt(5)): gain = sqrt(2 / (1 + a^2)), bound = sqrt(3) * gain / sqrt(fan_in)
        double a = Math.sqrt(5);
        double gain = Math.sqrt(2.0 / (1 + a * a));
        double bound = Math.sqrt(3.0) * (gain / Math.sqrt(in));
        rng.uniform(weight.buffer(), weightOffset, out * in, -bound, bound);
        if (bias != null) {
            double biasBound = 1 / Math.sqrt(in);
            rng.uniform(bias.buffer(), biasOffset, out, -biasBound, biasBound);
        }
    }

    private static void ones(Tensor t) {
        FloatBuffer b = t.buffer();
        for (int i = 0; i < t.length(); i++) {
            b.put(i, 1f);
        }
    }
}
