package com.scratchgpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the PyTorch reference model shows for one prompt (fixtures/inspect/&lt;fixture&gt;.json, made by
 * scripts/make_inspect_fixtures.py), and the check that an /inspect answer shows the same: attention weights within
 * 1e-5, logit-lens and next-token probabilities within 1e-4, logits and losses within the fixture's logit tolerance.
 */
public final class InspectionReference {

    /** Probability tolerances of the logit lens, the next token and the sampler. */
    public static final double PROB = 1e-4;
    /** Tolerance of the attention weights. */
    public static final double ATTENTION = 1e-5;
    /**
     * Two ranked tokens whose reference log-probabilities are closer than this may come in either order: a float32
     * implementation's logits differ from PyTorch's by about 1e-6 on the tiny fixtures, 1e-3 on GPT-2 small.
     */
    private static final double UNDECIDED_ORDER = 2e-3;

    private final JsonNode reference;

    private InspectionReference(JsonNode reference) {
        this.reference = reference;
    }

    public static InspectionReference of(String fixture) {
        try (InputStream in = InspectionReference.class.getResourceAsStream("/fixtures/inspect/" + fixture + ".json")) {
            return new InspectionReference(JsonMapper.builder().build().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int[] promptTokens() {
        JsonNode p = reference.get("prompt_tokens");
        int[] out = new int[p.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = p.get(i).asInt();
        }
        return out;
    }

    /** The cross-entropy of each prompt token after the first under the logits of the position before it. */
    public double[] perTokenLoss() {
        JsonNode perToken = reference.get("loss").get("per_token");
        double[] out = new double[perToken.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = perToken.get(i).asDouble();
        }
        return out;
    }

    /** The most likely next token at each prompt position under the model's logits, with its probability: [token, prob]. */
    public JsonNode mostLikelyNext(int position) {
        JsonNode lens = reference.get("logit_lens");
        return lens.get(lens.size() - 1).get(position).get(0);
    }

    /** The sampler setting the reference's sampledProb was computed for: temperature, top_k, top_p (null when unset). */
    public JsonNode sampler() {
        return reference.get("sampler");
    }

    /** The request field values of the sampler setting, as /inspect takes them ({@code "temperature": 0.8, ...}). */
    public String samplerFields() {
        JsonNode s = sampler();
        StringBuilder b = new StringBuilder("\"temperature\": ").append(s.get("temperature").asDouble());
        if (!s.get("top_k").isNull()) {
            b.append(", \"topK\": ").append(s.get("top_k").asInt());
        }
        if (!s.get("top_p").isNull()) {
            b.append(", \"topP\": ").append(s.get("top_p").asDouble());
        }
        return b.toString();
    }

    /**
     * An /inspect answer (every layer's attention and lens, {@code top} at least 10, the reference's sampler setting)
     * against the reference.
     */
    public void assertAnswer(JsonNode answer, double logitTolerance) {
        int[] prompt = promptTokens();
        assertThat(answer.get("tokens")).hasSize(prompt.length);
        for (int i = 0; i < prompt.length; i++) {
            assertThat(answer.get("tokens").get(i).get("id").asInt()).isEqualTo(prompt[i]);
        }
        assertAttention(answer.get("attention"));
        assertLens(answer.get("logitLens"));
        assertLoss(answer.get("loss"), logitTolerance);
        assertNext(answer.get("next").get("top"), logitTolerance);
    }

    private void assertAttention(JsonNode actual) {
        JsonNode expected = reference.get("attention");
        assertThat(actual).as("layers").hasSize(expected.size());
        double maxDiff = 0;
        for (int l = 0; l < expected.size(); l++) {
            assertThat(actual.get(l)).as("heads of layer %d", l).hasSize(expected.get(l).size());
            for (int h = 0; h < expected.get(l).size(); h++) {
                for (int q = 0; q < expected.get(l).get(h).size(); q++) {
                    JsonNode row = actual.get(l).get(h).get(q);
                    JsonNode want = expected.get(l).get(h).get(q);
                    assertThat(row).as("layer %d head %d row %d: keys 0..%d", l, h, q, q).hasSize(q + 1);
                    for (int k = 0; k <= q; k++) {
                        maxDiff = Math.max(maxDiff, Math.abs(row.get(k).asDouble() - want.get(k).asDouble()));
                    }
                }
            }
        }
        assertThat(maxDiff).as("max |attention weight - reference|").isLessThanOrEqualTo(ATTENTION);
    }

    private void assertLens(JsonNode actual) {
        JsonNode expected = reference.get("logit_lens");
        assertThat(actual).as("layers").hasSize(expected.size());
        for (int l = 0; l < expected.size(); l++) {
            assertThat(actual.get(l)).as("positions of layer %d", l).hasSize(expected.get(l).size());
            for (int p = 0; p < expected.get(l).size(); p++) {
                JsonNode want = expected.get(l).get(p);
                JsonNode got = actual.get(l).get(p).get("top");
                for (int k = 0; k < want.size(); k++) {
                    String where = "lens layer " + l + " position " + p + " rank " + k;
                    assertThat(got.get(k).get("prob").asDouble()).as(where).isCloseTo(want.get(k).get(1).asDouble(), within(PROB));
                    if (decided(want, k, 1, true)) {
                        assertThat(got.get(k).get("token").asInt()).as(where).isEqualTo(want.get(k).get(0).asInt());
                    }
                }
            }
        }
    }

    private void assertLoss(JsonNode actual, double tolerance) {
        JsonNode expected = reference.get("loss");
        JsonNode perToken = expected.get("per_token");
        assertThat(actual.get("perToken")).hasSize(perToken.size());
        for (int i = 0; i < perToken.size(); i++) {
            assertThat(actual.get("perToken").get(i).asDouble()).as("loss of token %d", i + 1)
                    .isCloseTo(perToken.get(i).asDouble(), within(tolerance));
        }
        assertThat(actual.get("mean").asDouble()).isCloseTo(expected.get("mean").asDouble(), within(tolerance));
        double perplexity = expected.get("perplexity").asDouble();
        assertThat(actual.get("perplexity").asDouble()).isCloseTo(perplexity, within(perplexity * tolerance * 2));
    }

    private void assertNext(JsonNode actual, double logitTolerance) {
        JsonNode expected = reference.get("next");
        JsonNode sampled = reference.get("sampler").get("sampled_prob");
        for (int k = 0; k < expected.size(); k++) {
            JsonNode got = actual.get(k);
            String where = "next rank " + k;
            assertThat(got.get("logit").asDouble()).as(where).isCloseTo(expected.get(k).get(1).asDouble(), within(logitTolerance));
            assertThat(got.get("prob").asDouble()).as(where).isCloseTo(expected.get(k).get(2).asDouble(), within(PROB));
            assertThat(got.get("sampledProb").asDouble()).as(where).isCloseTo(sampled.get(k).asDouble(), within(PROB));
            if (decided(expected, k, 1, false)) {
                assertThat(got.get("token").asInt()).as(where).isEqualTo(expected.get(k).get(0).asInt());
            }
        }
    }

    /** Whether rank k's token is set apart from its neighbours by more than the undecided gap (in log-probability). */
    private static boolean decided(JsonNode ranked, int k, int field, boolean isProb) {
        for (int n : new int[] {k - 1, k + 1}) {
            if (n >= 0 && n < ranked.size()) {
                double a = ranked.get(k).get(field).asDouble();
                double b = ranked.get(n).get(field).asDouble();
                double gap = isProb ? Math.abs(Math.log(a) - Math.log(b)) : Math.abs(a - b);
                if (gap < UNDECIDED_ORDER) {
                    return false;
                }
            }
        }
        return true;
    }
}
