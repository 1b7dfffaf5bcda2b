package com.scratchgpt;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The PyTorch reference fixtures copied into src/test/resources/fixtures. */
public final class Fixtures {

    /** One greedy run of the reference: prompt, generated tokens, and per step the chosen logprob and top 5. */
    public record Run(int[] prompt, int[] generated, double[] logprobs, int[][] topTokens, double[][] topLogprobs) {
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String name;
    private final JsonNode reference;

    private Fixtures(String name) {
        this.name = name;
        try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name + "/reference.json")) {
            this.reference = JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Fixtures of(String name) {
        return new Fixtures(name);
    }

    /** The fixture's folder on disk (config.json and model.safetensors). */
    public Path dir() {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public long totalParams() {
        return reference.get("total_params").asLong();
    }

    public int[][] logitsBatch() {
        JsonNode b = reference.get("logits_batch");
        int[][] out = new int[b.size()][];
        for (int i = 0; i < b.size(); i++) {
            out[i] = ints(b.get(i));
        }
        return out;
    }

    /** logits.f32 as (batch * tokens * vocab) floats. */
    public float[] logits() {
        try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name + "/logits.f32")) {
            ByteBuffer bytes = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[bytes.remaining() / 4];
            bytes.asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Run> runs() {
        List<Run> runs = new ArrayList<>();
        for (JsonNode r : reference.get("runs")) {
            JsonNode steps = r.get("steps");
            double[] lp = new double[steps.size()];
            int[][] topT = new int[steps.size()][];
            double[][] topL = new double[steps.size()][];
            for (int s = 0; s < steps.size(); s++) {
                JsonNode step = steps.get(s);
                lp[s] = step.get("logprob").asDouble();
                JsonNode top = step.get("top");
                topT[s] = new int[top.size()];
                topL[s] = new double[top.size()];
                for (int k = 0; k < top.size(); k++) {
                    topT[s][k] = top.get(k).get(0).asInt();
                    topL[s][k] = top.get(k).get(1).asDouble();
                }
            }
            runs.add(new Run(ints(r.get("prompt_tokens")), ints(r.get("generated_tokens")), lp, topT, topL));
        }
        return runs;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
