package com.scratchgpt.weights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.ParameterTable;
import com.scratchgpt.model.ParameterTable.Parameter;

/**
 * The one place that maps checkpoint tensor names onto the model's parameters, both directions read off
 * the {@link ParameterTable}. Each model parameter is filled from one or more checkpoint tensors
 * ({@link Source}): the seeds' W_query, W_key and W_value land in rows of the fused {@code att.qkv};
 * Hugging Face's Conv1D weights are stored [in, out] and are transposed on the way in.
 */
public enum CheckpointLayout {

    /** The seeds' state_dict names: tok_emb.weight, trf_blocks.0.att.W_query.weight, ... */
    BOOK {
        @Override
        List<Source> sources(Parameter p, String prefix) {
            List<String> stacked = p.row().seedsModules();
            long[] shape = p.shape().clone();
            shape[0] /= stacked.size();
            long numel = p.numel() / stacked.size();
            List<Source> sources = new ArrayList<>(stacked.size());
            for (int k = 0; k < stacked.size(); k++) {
                String name = ParameterTable.blockPrefix(p.layer()) + stacked.get(k) + "." + p.role().seedsName();
                sources.add(new Source(name, shape, k * numel, false));
            }
            return sources;
        }

        @Override
        boolean ignored(String name) {
            return name.endsWith(".att.mask");
        }
    },

    /** Hugging Face GPT-2: wte, wpe, h.N.ln_1, h.N.attn.c_attn (Conv1D), ..., ln_f, optionally lm_head. */
    HUGGING_FACE {
        @Override
        List<Source> sources(Parameter p, String prefix) {
            ParameterTable row = p.row();
            // GPT2LMHeadModel holds lm_head beside its transformer, so the prefix is not lm_head's
            String name = (row.huggingFace() == ParameterTable.HuggingFace.LINEAR ? "" : prefix)
                    + (p.layer() < 0 ? "" : "h." + p.layer() + ".")
                    + row.huggingFaceModule() + "." + p.role().huggingFaceName();
            boolean transpose = row.huggingFace() == ParameterTable.HuggingFace.CONV1D
                    && p.role() == ParameterTable.Role.WEIGHT;
            long[] shape = transpose ? new long[] {p.shape()[1], p.shape()[0]} : p.shape();
            return List.of(new Source(name, shape, 0, transpose));
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

    /** The checkpoint tensors that fill this parameter, under this key prefix. */
    abstract List<Source> sources(Parameter p, String prefix);

    /** Tensors that carry no parameters and are skipped without a word. */
    abstract boolean ignored(String name);

    /** For each model parameter, the checkpoint tensors that fill it. */
    Map<String, List<Source>> sources(GPTConfig cfg, String prefix, boolean tied) {
        Map<String, List<Source>> sources = new LinkedHashMap<>();
        for (Parameter p : ParameterTable.parameters(cfg, tied)) {
            sources.put(p.name(), sources(p, prefix));
        }
        return sources;
    }

    /** The name a separate output head has in this layout. */
    String outputHeadName(GPTConfig cfg, String prefix) {
        return firstSourceName(ParameterTable.OUT_HEAD, cfg, prefix);
    }

    private String firstSourceName(ParameterTable row, GPTConfig cfg, String prefix) {
        return sources(row.parametersIn(cfg, -1).get(0), prefix).get(0).name();
    }

    /** The layout and key prefix of a checkpoint, from its tensor names. */
    record Detected(CheckpointLayout layout, String prefix) {
    }

    /** The layout and prefix under which the checkpoint holds a token embedding, or null. */
    static Detected detect(Set<String> names) {
        GPTConfig anySize = new GPTConfig(1, 1, 1, 1, 1, 0, true); // the embedding's name does not depend on sizes
        for (CheckpointLayout layout : values()) {
            for (String prefix : List.of("", "transformer.")) { // GPT2Model's names, or GPT2LMHeadModel's
                if (names.contains(layout.firstSourceName(ParameterTable.TOK_EMB, anySize, prefix))) {
                    return new Detected(layout, prefix);
                }
            }
        }
        return null;
    }
}
