package com.scratchgpt.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

import com.scratchgpt.Fixtures;
import com.scratchgpt.weights.SafetensorsFile;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One case of fixtures/layers (scripts/make_layer_fixtures.py): a layer of the seeds built and run by
 * PyTorch, its weights under the seeds' state_dict names, its input and its output.
 */
final class LayerFixtures {

    private static final Path DIR = Fixtures.of("tiny-hf").dir().resolveSibling("layers");

    private final String name;
    private final JsonNode config;

    private LayerFixtures(String name, JsonNode config) {
        this.name = name;
        this.config = config;
    }

    static LayerFixtures of(String name) {
        try {
            JsonNode root = JsonMapper.builder().build().readTree(Files.readAllBytes(DIR.resolve("layers.json")));
            return new LayerFixtures(name, root.get("cases").get(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int config(String field) {
        return config.get(field).asInt();
    }

    JsonNode json(String field) {
        return config.get(field);
    }

    /** The GPTConfig of an attention or block case (one layer, the fixture's vocabulary left at GPT-2's). */
    GPTConfig gptConfig() {
        return new GPTConfig(50257, config("context_length"), config("emb"), config("heads"), 1, 0.0,
                config.get("qkv_bias").asBoolean());
    }

    /** A tensor of the case, in its stored shape. */
    Tensor tensor(String tensor) {
        try (SafetensorsFile st = SafetensorsFile.open(DIR.resolve("layers.safetensors"))) {
            SafetensorsFile.Entry e = st.entries().get(name + "." + tensor);
            assertThat(e).as("tensor %s.%s in the fixture", name, tensor).isNotNull();
            Tensor t = Tensor.zeros(e.shape());
            st.readInto(e.name(), t.buffer(), 0, false);
            return t;
        }
    }

    /** The case's tensors stacked row-wise into one, as att.qkv stacks W_query, W_key and W_value. */
    Tensor stacked(String... tensors) {
        List<Tensor> parts = new ArrayList<>();
        for (String t : tensors) {
            parts.add(tensor(t));
        }
        long[] shape = parts.get(0).shape().clone();
        shape[0] *= parts.size();
        Tensor out = Tensor.zeros(shape);
        int offset = 0;
        for (Tensor part : parts) {
            out.copyFrom(part, 0, offset, Math.toIntExact(part.length()));
            offset += Math.toIntExact(part.length());
        }
        return out;
    }

    /** The Linear of the seeds' module {@code module} (weight and, when stored, bias). */
    Linear linear(String module) {
        return new Linear(tensor(module + ".weight"), hasTensor(module + ".bias") ? tensor(module + ".bias") : null);
    }

    /** The LayerNorm of the seeds' module {@code module} (scale and shift); "" for the case's own. */
    LayerNorm layerNorm(String module) {
        String prefix = module.isEmpty() ? "" : module + ".";
        return new LayerNorm(tensor(prefix + "scale"), tensor(prefix + "shift"));
    }

    /** att.qkv as the engine holds it: the seeds' W_query, W_key and W_value (weights and biases) stacked. */
    Linear fusedQkv(String att) {
        String p = att.isEmpty() ? "" : att + ".";
        Tensor weight = stacked(p + "W_query.weight", p + "W_key.weight", p + "W_value.weight");
        Tensor bias = hasTensor(p + "W_query.bias")
                ? stacked(p + "W_query.bias", p + "W_key.bias", p + "W_value.bias") : null;
        return new Linear(weight, bias);
    }

    private boolean hasTensor(String tensor) {
        try (SafetensorsFile st = SafetensorsFile.open(DIR.resolve("layers.safetensors"))) {
            return st.entries().containsKey(name + "." + tensor);
        }
    }

    /**
     * Runs a layer over the book's input (batch, tokens, emb) as the engine runs a step: the sequences'
     * new tokens back to back as rows, each sequence a {@link SequenceChunk} with a KV cache of its own.
     * {@code steps[s][b]} is how many of sequence b's tokens step s runs (0: b sits that step out).
     * Returns the layer's output rearranged as (batch, tokens, emb), to compare with the book's.
     */
    static Tensor runAsEngine(GPTConfig cfg, Tensor input, int[][] steps, Function<Activations, Tensor> in,
                              Function<Activations, Tensor> out, Consumer<Activations> layer) {
        int batch = Math.toIntExact(input.shape()[0]);
        int tokens = Math.toIntExact(input.shape()[1]);
        int emb = cfg.embDim();
        KVCache[] caches = new KVCache[batch];
        for (int b = 0; b < batch; b++) {
            caches[b] = new KVCache(cfg, tokens);
        }
        Activations act = new Activations(cfg, batch * tokens, batch);
        Tensor result = Tensor.zeros(input.shape());
        for (int[] step : steps) {
            List<SequenceChunk> chunks = new ArrayList<>();
            List<int[]> rows = new ArrayList<>(); // per row: sequence, position
            for (int b = 0; b < batch; b++) {
                if (step[b] > 0) {
                    int first = caches[b].length();
                    chunks.add(new SequenceChunk(new int[step[b]], caches[b]));
                    for (int i = 0; i < step[b]; i++) {
                        rows.add(new int[] {b, first + i});
                    }
                }
            }
            for (int r = 0; r < rows.size(); r++) {
                in.apply(act).copyFrom(input, (rows.get(r)[0] * tokens + rows.get(r)[1]) * emb, r * emb, emb);
            }
            act.start(chunks);
            layer.accept(act);
            for (int r = 0; r < rows.size(); r++) {
                result.copyFrom(out.apply(act), r * emb, (rows.get(r)[0] * tokens + rows.get(r)[1]) * emb, emb);
            }
            chunks.forEach(c -> c.cache().advance(c.tokens().length));
        }
        for (KVCache cache : caches) {
            assertThat(cache.length()).as("the steps run every token").isEqualTo(tokens);
        }
        return result;
    }

    /** Largest |actual - expected| over the first n values. */
    static double maxDiff(Tensor actual, Tensor expected, int n) {
        double max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(actual.buffer().get(i) - expected.buffer().get(i)));
        }
        return max;
    }
}
