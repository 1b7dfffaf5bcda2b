package com.scratchgpt.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTPreset;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * config.json beside a checkpoint, in either form: the seeds' GPT_CONFIG dict ({@code emb_dim},
 * {@code n_layers}, ..., with {@code context_length} or, as in the chapter's earlier notes, {@code ctx_len})
 * or Hugging Face GPT-2's ({@code n_embd}, {@code n_layer}, ...). Without config.json, the checkpoint's
 * shapes name one of the four GPT-2 sizes, or the load stops asking for config.json.
 */
final class CheckpointConfig {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private CheckpointConfig() {
    }

    /**
     * config.json, or the GPT-2 size the tensors have when it is absent.
     *
     * @param tensors  the checkpoint's tensors, by name
     * @param detected their layout
     */
    static GPTConfig read(Path file, CheckpointLayout.Detected detected, Map<String, ? extends TensorFile.Entry> tensors) {
        if (!Files.exists(file)) {
            return preset(file, detected, tensors);
        }
        return read(file);
    }

    static GPTConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, null, "file not found (config.json must sit beside the weights)");
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read: " + e.getMessage(), e);
        } catch (JacksonException e) {
            throw new CheckpointException(file, null, "invalid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, null, "not a JSON object");
        }
        try {
            if (root.has("n_embd")) {
                double eps = number(file, root, "layer_norm_epsilon", 1e-5);
                if (Math.abs(eps - 1e-5) > 1e-12) {
                    throw new CheckpointException(file, null, "layer_norm_epsilon " + eps + " is not GPT-2's 1e-5");
                }
                int positions = root.has("n_positions") ? integer(file, root, "n_positions") : integer(file, root, "n_ctx");
                double drop = number(file, root, "resid_pdrop", 0.1);
                return new GPTConfig(integer(file, root, "vocab_size"), positions, integer(file, root, "n_embd"),
                        integer(file, root, "n_head"), integer(file, root, "n_layer"), drop, true);
            }
            JsonNode qkvBias = root.get("qkv_bias");
            if (qkvBias != null && !qkvBias.isBoolean()) {
                throw new CheckpointException(file, null, "field 'qkv_bias' is not true or false");
            }
            return new GPTConfig(integer(file, root, "vocab_size"), contextLength(file, root),
                    integer(file, root, "emb_dim"), integer(file, root, "n_heads"), integer(file, root, "n_layers"),
                    number(file, root, "drop_rate", 0.0), qkvBias != null && qkvBias.booleanValue());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, "invalid configuration: " + e.getMessage());
        }
    }

    /** context_length, or ctx_len as the chapter's earlier GPT_CONFIG names it; both only when they agree. */
    private static int contextLength(Path file, JsonNode root) {
        if (!root.has("ctx_len")) {
            return integer(file, root, "context_length");
        }
        int ctxLen = integer(file, root, "ctx_len");
        if (root.has("context_length") && integer(file, root, "context_length") != ctxLen) {
            throw new CheckpointException(file, null, "fields 'context_length' and 'ctx_len' disagree");
        }
        return ctxLen;
    }

    /**
     * The GPT-2 size whose shapes the checkpoint has: vocabulary 50257, context 1024, a preset's width and
     * exactly its number of blocks; query/key/value biases when the first block has them. Tensor names come
     * from the layout, for a probe configuration, so that this knows no names of its own.
     */
    private static GPTConfig preset(Path file, CheckpointLayout.Detected detected,
                                    Map<String, ? extends TensorFile.Entry> tensors) {
        CheckpointLayout layout = detected.layout();
        Map<String, List<CheckpointLayout.Source>> probe = layout.sources(new GPTConfig(1, 1, 1, 1, 1, 0, true),
                detected.prefix(), true);
        long[] tokEmb = shape(tensors, probe, "tok_emb.weight");
        long[] posEmb = shape(tensors, probe, "pos_emb.weight");
        boolean qkvBias = tensors.containsKey(probe.get("trf_blocks.0.att.qkv.bias").get(0).name());
        for (GPTPreset preset : GPTPreset.values()) {
            GPTConfig cfg = preset.config(qkvBias);
            if (tokEmb != null && posEmb != null && tokEmb.length == 2 && posEmb.length == 2
                    && tokEmb[0] == cfg.vocabSize() && tokEmb[1] == cfg.embDim()
                    && posEmb[0] == cfg.contextLength() && posEmb[1] == cfg.embDim()
                    && hasBlock(tensors, layout, detected.prefix(), cfg.nLayers() - 1)
                    && !hasBlock(tensors, layout, detected.prefix(), cfg.nLayers())) {
                return cfg;
            }
        }
        String found = tokEmb == null || posEmb == null ? "" : " (" + probe.get("tok_emb.weight").get(0).name() + " "
                + Arrays.toString(tokEmb) + ", " + probe.get("pos_emb.weight").get(0).name() + " "
                + Arrays.toString(posEmb) + ")";
        throw new CheckpointException(file, null, "file not found: config.json must sit beside the weights, unless they "
                + "have the shapes of a GPT-2 size (vocabulary 50257, context 1024, width 768, 1024, 1280 or 1600 with "
                + "12, 24, 36 or 48 blocks), which these do not" + found);
    }

    private static long[] shape(Map<String, ? extends TensorFile.Entry> tensors,
                                Map<String, List<CheckpointLayout.Source>> probe, String param) {
        TensorFile.Entry e = tensors.get(probe.get(param).get(0).name());
        return e == null ? null : e.shape();
    }

    /** Whether the checkpoint holds any tensor of block {@code index} (0-based). */
    private static boolean hasBlock(Map<String, ? extends TensorFile.Entry> tensors, CheckpointLayout layout,
                                    String prefix, int index) {
        GPTConfig blocks = new GPTConfig(1, 1, 1, 1, index + 1, 0, true);
        return layout.sources(blocks, prefix, false).entrySet().stream()
                .filter(p -> p.getKey().startsWith("trf_blocks." + index + "."))
                .flatMap(p -> p.getValue().stream())
                .anyMatch(s -> tensors.containsKey(s.name()));
    }

    /** A numeric field, or the default when absent; Jackson's asDouble() would throw its own exception on "abc". */
    private static double number(Path file, JsonNode root, String field, double absent) {
        JsonNode n = root.get(field);
        if (n == null) {
            return absent;
        }
        if (!n.isNumber()) {
            throw new CheckpointException(file, null, "field '" + field + "' is not a number");
        }
        return n.asDouble();
    }

    private static int integer(Path file, JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new CheckpointException(file, null, "field '" + field + "' is missing or not an integer");
        }
        return n.asInt();
    }
}
