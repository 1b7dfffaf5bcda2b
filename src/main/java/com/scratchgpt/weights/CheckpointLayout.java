package com.scratchgpt.weights;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.scratchgpt.model.GPTConfig;

/**
 * The one place that maps checkpoint tensor names onto the model's parameters. Each model parameter
 * is filled from one or more checkpoint tensors ({@link Source}): W_query, W_key and W_value land in
 * rows of the fused {@code att.qkv}; Hugging Face's Conv1D weights are stored [in, out] and are
 * transposed on the way in.
 */
enum CheckpointLayout {

    /** The seeds' state_dict names: tok_emb.weight, trf_blocks.0.att.W_query.weight, ... */
    BOOK {
        @Override
        Map<String, List<Source>> sources(GPTConfig cfg, String prefix, boolean tied) {
            long e = cfg.embDim();
            Mapping m = new Mapping();
            m.copy("tok_emb.weight", "tok_emb.weight", cfg.vocabSize(), e);
            m.copy("pos_emb.weight", "pos_emb.weight", cfg.contextLength(), e);
            for (int i = 0; i < cfg.nLayers(); i++) {
                String b = "trf_blocks." + i + ".";
                String[] parts = {"W_query", "W_key", "W_value"};
                for (int k = 0; k < 3; k++) {
                    m.add(b + "att.qkv.weight", new Source(b + "att." + parts[k] + ".weight", new long[] {e, e}, k * e * e, false));
                    if (cfg.qkvBias()) {
                        m.add(b + "att.qkv.bias", new Source(b + "att." + parts[k] + ".bias", new long[] {e}, k * e, false));
                    }
                }
                m.copy(b + "att.out_proj.weight", b + "att.out_proj.weight", e, e);
                m.copy(b + "att.out_proj.bias", b + "att.out_proj.bias", e);
                m.copy(b + "ff.layers.0.weight", b + "ff.layers.0.weight", 4 * e, e);
                m.copy(b + "ff.layers.0.bias", b + "ff.layers.0.bias", 4 * e);
                m.copy(b + "ff.layers.2.weight", b + "ff.layers.2.weight", e, 4 * e);
                m.copy(b + "ff.layers.2.bias", b + "ff.layers.2.bias", e);
                for (String norm : new String[] {"norm1", "norm2"}) {
                    m.copy(b + norm + ".scale", b + norm + ".scale", e);
                    m.copy(b + norm + ".shift", b + norm + ".shift", e);
                }
            }
            m.copy("final_norm.scale", "final_norm.scale", e);
            m.copy("final_norm.shift", "final_norm.shift", e);
            if (!tied) {
                m.copy("out_head.weight", "out_head.weight", cfg.vocabSize(), e);
            }
            return m.sources;
        }

        @Override
        String headName(String prefix) {
            return "out_head.weight";
        }

        @Override
        boolean ignored(String name) {
            return name.endsWith(".att.mask");
        }
    },

    /** Hugging Face GPT-2: wte, wpe, h.N.ln_1, h.N.attn.c_attn (Conv1D), ..., ln_f, optionally lm_head. */
    HUGGING_FACE {
        @Override
        Map<String, List<Source>> sources(GPTConfig cfg, String p, boolean tied) {
            long e = cfg.embDim();
            Mapping m = new Mapping();
            m.copy("tok_emb.weight", p + "wte.weight", cfg.vocabSize(), e);
            m.copy("pos_emb.weight", p + "wpe.weight", cfg.contextLength(), e);
            for (int i = 0; i < cfg.nLayers(); i++) {
                String b = "trf_blocks." + i + ".";
                String h = p + "h." + i + ".";
                m.transposed(b + "att.qkv.weight", h + "attn.c_attn.weight", e, 3 * e);
                if (cfg.qkvBias()) {
                    m.copy(b + "att.qkv.bias", h + "attn.c_attn.bias", 3 * e);
                }
                m.transposed(b + "att.out_proj.weight", h + "attn.c_proj.weight", e, e);
                m.copy(b + "att.out_proj.bias", h + "attn.c_proj.bias", e);
                m.transposed(b + "ff.layers.0.weight", h + "mlp.c_fc.weight", e, 4 * e);
                m.copy(b + "ff.layers.0.bias", h + "mlp.c_fc.bias", 4 * e);
                m.transposed(b + "ff.layers.2.weight", h + "mlp.c_proj.weight", 4 * e, e);
                m.copy(b + "ff.layers.2.bias", h + "mlp.c_proj.bias", e);
                m.copy(b + "norm1.scale", h + "ln_1.weight", e);
                m.copy(b + "norm1.shift", h + "ln_1.bias", e);
                m.copy(b + "norm2.scale", h + "ln_2.weight", e);
                m.copy(b + "norm2.shift", h + "ln_2.bias", e);
            }
            m.copy("final_norm.scale", p + "ln_f.weight", e);
            m.copy("final_norm.shift", p + "ln_f.bias", e);
            if (!tied) {
                m.copy("out_head.weight", headName(p), cfg.vocabSize(), e);
            }
            return m.sources;
        }

        @Override
        String headName(String prefix) {
            return "lm_head.weight";
        }

        @Override
        boolean ignored(String name) {
            // attention-mask buffers some exports include; they hold no parameters
            return name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias");
        }
    };

    /** One checkpoint tensor, its expected stored shape, and where it lands in a model parameter. */
    record Source(String name, long[] shape, long offset, boolean transpose) {
    }

    /** For each model parameter, the checkpoint tensors that fill it. */
    abstract Map<String, List<Source>> sources(GPTConfig cfg, String prefix, boolean tied);

    /** The name of a separate output head in this layout. */
    abstract String headName(String prefix);

    /** Tensors that carry no parameters and are skipped without a word. */
    abstract boolean ignored(String name);

    /** The layout and key prefix of a checkpoint, from its tensor names. */
    record Detected(CheckpointLayout layout, String prefix) {
    }

    static Detected detect(Set<String> names) {
        if (names.contains("tok_emb.weight")) {
            return new Detected(BOOK, "");
        }
        if (names.contains("wte.weight")) {
            return new Detected(HUGGING_FACE, "");
        }
        if (names.contains("transformer.wte.weight")) {
            return new Detected(HUGGING_FACE, "transformer.");
        }
        return null;
    }

    private static final class Mapping {
        final Map<String, List<Source>> sources = new java.util.LinkedHashMap<>();

        void add(String param, Source source) {
            sources.computeIfAbsent(param, k -> new ArrayList<>()).add(source);
        }

        void copy(String param, String name, long... shape) {
            add(param, new Source(name, shape, 0, false));
        }

        /** A Conv1D weight stored [in, out], transposed into nn.Linear's [out, in]. */
        void transposed(String param, String name, long in, long out) {
            add(param, new Source(name, new long[] {in, out}, 0, true));
        }
    }
}
