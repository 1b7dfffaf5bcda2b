package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import java.util.stream.IntStream;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.InspectionReference;

import tools.jackson.databind.JsonNode;

/** POST /inspect and GET / over real HTTP on the default (seed-123) model. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class InspectApiTest {

    static final InspectionReference HELLO = InspectionReference.of("gpt2-small-seed123");

    @LocalServerPort
    int port;
    HttpTestClient http;

    @BeforeEach
    void client() {
        http = new HttpTestClient(port);
    }

    @Test
    void helloIAmShowsWhatPyTorchComputesAttentionLensLossAndNext() {
        var r = http.postJson("/inspect", "{\"prompt\": \"Hello, I am\", \"top\": 10, " + HELLO.samplerFields() + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        HELLO.assertAnswer(r.json(), 2e-3);
    }

    @Test
    void theTopNextTokenIsTheOneGenerateProducesGreedily() {
        JsonNode inspection = http.postJson("/inspect", "{\"prompt\": \"Hello, I am\", \"attention\": false}").json();
        JsonNode first = inspection.get("next").get("top").get(0);
        JsonNode generated = http.postJson("/generate", "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1}").json();
        assertThat(first.get("token").asInt()).isEqualTo(generated.get("generatedTokens").get(0).asInt()).isEqualTo(27018);
        assertThat(first.get("text").asString()).isEqualTo(" Feature");
        assertThat(first.get("sampledProb").asDouble()).as("no temperature: greedy").isEqualTo(1.0);
        assertThat(inspection.get("next").get("top")).as("top defaults to 10").hasSize(10);
        JsonNode lastLayer = inspection.get("logitLens").get(11);
        assertThat(lastLayer.get(3).get("top").get(0).get("token").asInt()).as("the last layer's lens is the prediction")
                .isEqualTo(27018);
        assertThat(lastLayer.get(3).get("top").get(0).get("prob").asDouble()).isEqualTo(first.get("prob").asDouble());
    }

    @Test
    void tokensCarryTheirIdsAndText() {
        JsonNode tokens = http.postJson("/inspect", "{\"prompt\": \"Hello, I am\", \"attention\": false, \"logitLens\": false}")
                .json().get("tokens");
        assertThat(tokens).hasSize(4);
        assertThat(tokens.get(0).get("id").asInt()).isEqualTo(15496);
        assertThat(tokens.get(0).get("text").asString()).isEqualTo("Hello");
        assertThat(tokens.get(3).get("text").asString()).isEqualTo(" am");
    }

    @Test
    void attentionAndTheLensAreLeftOutOrNarrowedAsAsked() {
        JsonNode none = http.postJson("/inspect", "{\"promptTokens\": [15496, 11, 314], \"attention\": false, "
                + "\"logitLens\": false}").json();
        assertThat(none.has("attention")).isFalse();
        assertThat(none.has("logitLens")).isFalse();
        assertThat(none.get("next").get("top")).hasSize(10);
        assertThat(none.get("loss").get("perToken")).hasSize(2);

        JsonNode two = http.postJson("/inspect", "{\"promptTokens\": [15496, 11, 314], \"layers\": [11, 0], \"top\": 3}").json();
        JsonNode attention = two.get("attention");
        assertThat(attention).hasSize(12);
        for (int layer = 1; layer < 11; layer++) {
            assertThat(attention.get(layer).isNull()).as("layer %d was not asked for", layer).isTrue();
        }
        assertThat(attention.get(0)).hasSize(12);
        assertThat(attention.get(11).get(5).get(2)).as("row 2 holds keys 0..2").hasSize(3);
        assertThat(two.get("logitLens")).hasSize(12);
        assertThat(two.get("logitLens").get(0)).hasSize(3);
        assertThat(two.get("logitLens").get(0).get(2).get("top")).hasSize(3);
    }

    @Test
    void aOneTokenPromptHasNoLoss() {
        JsonNode loss = http.postJson("/inspect", "{\"promptTokens\": [50256]}").json().get("loss");
        assertThat(loss.get("perToken")).isEmpty();
        assertThat(loss.get("mean").isNull()).isTrue();
        assertThat(loss.get("perplexity").isNull()).isTrue();
    }

    @Test
    void theLongestPromptIsGptInspectMaxTokensAndOneMoreIsRefusedNamingTheField() {
        String ids128 = IntStream.range(0, 128).mapToObj(i -> "464").collect(Collectors.joining(","));
        var longest = http.postJson("/inspect", "{\"promptTokens\": [" + ids128 + "], \"attention\": false, \"top\": 1}");
        assertThat(longest.status()).as(longest.body()).isEqualTo(200);
        assertThat(longest.json().get("logitLens").get(0)).hasSize(128);

        JsonNode tooMany = ProblemAssertions.assertProblem(http.postJson("/inspect", "{\"promptTokens\": [" + ids128 + ",464]}"), 400);
        assertThat(tooMany.get("field").asString()).isEqualTo("promptTokens");
        assertThat(tooMany.get("detail").asString()).isEqualTo(
                "promptTokens: 129 tokens, more than the 128 an inspection takes (gpt.inspect.max-tokens)");
        String text = String.join("", Collections.nCopies(129, " the"));
        JsonNode tooLong = ProblemAssertions.assertProblem(http.postJson("/inspect", "{\"prompt\": \"" + text + "\"}"), 400);
        assertThat(tooLong.get("field").asString()).isEqualTo("prompt");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{\"prompt\": \"Hi\", \"top\": 0}                          | top          | top: must be between 1 and 50, got 0",
            "{\"prompt\": \"Hi\", \"top\": 51}                         | top          | top: must be between 1 and 50, got 51",
            "{\"prompt\": \"Hi\", \"layers\": [12]}                    | layers       | layers: layer 12 is not one of the model's 0..11",
            "{\"prompt\": \"Hi\", \"layers\": [-1]}                    | layers       | layers: layer -1 is not one of the model's 0..11",
            "{\"prompt\": \"Hi\", \"layers\": [3, 3]}                  | layers       | layers: layer 3 is given twice",
            "{\"prompt\": \"Hi\", \"layers\": []}                      | layers       | layers: must name at least one layer; attention: false leaves the attention out",
            "{\"prompt\": \"Hi\", \"layers\": [1], \"attention\": false} | layers     | layers: narrows the attention, which attention: false leaves out",
            "{\"prompt\": \"Hi\", \"temperature\": -1}                 | temperature  | temperature: must be between 0 and 100, got -1.0",
            "{\"prompt\": \"Hi\", \"topK\": 0}                         | topK         | topK: must be at least 1, got 0",
            "{\"prompt\": \"Hi\", \"topP\": 0}                         | topP         | topP: must be in (0, 1], got 0.0",
            "{\"prompt\": \"Hi\", \"promptTokens\": [1]}                | prompt       | prompt: give exactly one of prompt and promptTokens",
            "{\"top\": 3}                                              | prompt       | prompt: give exactly one of prompt and promptTokens",
            "{\"prompt\": \"\"}                                        | prompt       | prompt: must not be empty",
            "{\"promptTokens\": [50257]}                               | promptTokens | promptTokens: token id 50257 at index 0 is outside the vocabulary 0..50256"})
    void aBadFieldIsA400ProblemNamingIt(String body, String field, String detail) {
        JsonNode problem = ProblemAssertions.assertProblem(http.postJson("/inspect", body), 400);
        assertThat(problem.get("field").asString()).isEqualTo(field);
        assertThat(problem.get("detail").asString()).isEqualTo(detail);
        assertThat(problem.get("instance").asString()).isEqualTo("/inspect");
    }

    @Test
    void unknownFieldsAndWrongTypesAreRefusedNamingTheField() {
        JsonNode unknown = ProblemAssertions.assertProblem(http.postJson("/inspect", "{\"prompt\": \"Hi\", \"maxNewTokens\": 1}"), 400);
        assertThat(unknown.get("field").asString()).isEqualTo("maxNewTokens");
        JsonNode wrongType = ProblemAssertions.assertProblem(http.postJson("/inspect", "{\"prompt\": \"Hi\", \"attention\": 1}"), 400);
        assertThat(wrongType.get("field").asString()).isEqualTo("attention");
        assertThat(http.post("/inspect", "text/plain", "Hello").status()).isEqualTo(415);
    }

    @Test
    void theInspectorPageIsServedAtTheRootWithItsModulesAndNothingFromElsewhere() {
        var page = http.get("/?prompt=Hello%2C%20I%20am");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.contentType()).startsWith("text/html");
        assertThat(page.raw().headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp ->
                assertThat(csp).contains("default-src 'self'").contains("connect-src 'self'"));
        assertThat(page.body()).contains("<script type=\"module\" src=\"inspector/main.js\"></script>")
                .contains("href=\"swagger-ui.html\"").doesNotContain("http://").doesNotContain("https://");
        var module = http.get("/inspector/main.js");
        assertThat(module.status()).isEqualTo(200);
        assertThat(module.contentType()).startsWith("text/javascript");
    }
}
