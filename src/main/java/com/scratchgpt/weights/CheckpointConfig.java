package com.scratchgpt.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import com.scratchgpt.model.GPTConfig;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * config.json beside a checkpoint, in either form: the seeds' GPT_CONFIG dict ({@code emb_dim},
 * {@code n_layers}, ..., with {@code context_length} or, as in the chapter's earlier notes, {@code ctx_len})
 * or Hugging Face GPT-2's ({@code n_embd}, {@code n_layer}, ...).
 */
final class CheckpointConfig {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private CheckpointConfig() {
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
