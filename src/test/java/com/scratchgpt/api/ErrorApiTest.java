package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/** Every bad input answers an RFC 9457 problem naming the field, never a 500. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ErrorApiTest {

    @LocalServerPort
    int port;

    @ParameterizedTest(name = "{0} -> {1} naming {2}")
    @CsvSource(delimiter = '|', value = {
        "{\"prompt\": \"x\", \"maxNewTokens\": 5000}                 | 400 | maxNewTokens",
        "{\"prompt\": \"x\", \"maxNewTokens\": -1}                   | 400 | maxNewTokens",
        "{\"prompt\": \"x\", \"promptTokens\": [1]}                  | 400 | prompt",
        "{\"maxNewTokens\": 3}                                       | 400 | prompt",
        "{\"prompt\": \"\"}                                          | 400 | prompt",
        "{\"promptTokens\": []}                                      | 400 | promptTokens",
        "{\"promptTokens\": [1, 50257]}                              | 400 | promptTokens",
        "{\"promptTokens\": [-1]}                                    | 400 | promptTokens",
        "{\"prompt\": \"x\", \"temperature\": -0.5}                  | 400 | temperature",
        "{\"prompt\": \"x\", \"topP\": 0}                            | 400 | topP",
        "{\"prompt\": \"x\", \"topP\": 1.5}                          | 400 | topP",
        "{\"prompt\": \"x\", \"topK\": 0}                            | 400 | topK",
        "{\"prompt\": \"x\", \"logprobs\": 21}                       | 400 | logprobs",
        "{\"prompt\": \"x\", \"stop\": [\"a\",\"b\",\"c\",\"d\",\"e\"]} | 400 | stop",
        "{\"prompt\": \"x\", \"stop\": [\"\"]}                       | 400 | stop",
        "{\"prompt\": \"x\", \"maxNewTokens\": \"many\"}             | 400 | maxNewTokens",
        "{\"prompt\": \"x\", \"promptTokens\": \"abc\"}              | 400 | promptTokens",
        "{\"prompt\": [1, 2]}                                        | 400 | prompt",
        "{not json                                                   | 400 | JSON",
        "[]                                                          | 400 | JSON",
    })
    void badGenerateRequestsAreProblemsNamingTheField(String body, int status, String field) {
        var r = new HttpTestClient(port).postJson("/generate", body.strip());
        assertThat(r.status()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().get("status").asInt()).isEqualTo(status);
        assertThat(r.json().get("title").asString()).isNotBlank();
        assertThat(r.json().get("detail").asString()).contains(field);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"prompt\": 123}                                    | prompt          | prompt: must be a string",
        "{\"prompt\": \"x\", \"maxNewTokens\": 6.5}           | maxNewTokens    | maxNewTokens: must be an integer",
        "{\"prompt\": \"x\", \"maxNewTokens\": \"6\"}           | maxNewTokens    | maxNewTokens: must be an integer",
        "{\"prompt\": \"x\", \"maxNewTokens\": true}          | maxNewTokens    | maxNewTokens: must be an integer",
        "{\"prompt\": \"x\", \"maxNewTokens\": 2147483648}    | maxNewTokens    | maxNewTokens: must be an integer between -2147483648 and 2147483647",
        "{\"prompt\": \"x\", \"seed\": 1.5}                   | seed            | seed: must be an integer",
        "{\"promptTokens\": [15496.7]}                        | promptTokens    | promptTokens[0]: must be an integer",
        "{\"promptTokens\": [15496, null]}                    | promptTokens    | promptTokens[1]: must be an integer, not null",
        "{\"promptTokens\": [15496, \"11\"]}                  | promptTokens    | promptTokens[1]: must be an integer",
        "{\"prompt\": \"x\", \"temperature\": \"0.5\"}          | temperature     | temperature: must be a number",
        "{\"prompt\": \"x\", \"temperature\": true}           | temperature     | temperature: must be a number",
        "{\"prompt\": \"x\", \"topP\": [0.5]}                 | topP            | topP: must be a number",
        "{\"prompt\": \"x\", \"stop\": \"a\"}                   | stop            | stop: must be an array",
        "{\"prompt\": \"x\", \"stop\": [1]}                   | stop            | stop[0]: must be a string",
        "{\"prompt\": \"a\", \"prompt\": \"b\"}                 | prompt          | prompt: duplicate field",
        "{\"prompt\": \"x\", \"max_new_tokens\": 3}           | max_new_tokens  | max_new_tokens: unknown field; the fields are",
    })
    void wrongTypesUnknownAndRepeatedFieldsAreRefusedNamingTheField(String body, String field, String detail) {
        var r = new HttpTestClient(port).postJson("/generate", body.strip());
        JsonNode problem = ProblemAssertions.assertProblem(r, 400);
        assertThat(problem.get("field").asString()).isEqualTo(field);
        assertThat(problem.get("detail").asString()).startsWith(detail);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "{\"prompt\": \"x\"} {\"prompt\": \"y\"} | request body: holds more than one JSON value; the second starts at line 1, column 17",
        "{\"prompt\": \"x\"} 7                 | request body: holds more than one JSON value",
        "{\"prompt\": \"x\",}                  | request body: is not valid JSON at line 1, column 16",
        "{\"prompt\": \"x\", \"topK\": NaN}      | request body: is not valid JSON at line 1, column",
        "null                                | request body: is missing or null",
        "[1]                                 | request body: must be a JSON object",
    })
    void aBodyThatIsNotOneJsonObjectIsRefusedSayingWhere(String body, String detail) {
        var r = new HttpTestClient(port).postJson("/generate", body.strip());
        JsonNode problem = ProblemAssertions.assertProblem(r, 400);
        assertThat(problem.get("detail").asString()).startsWith(detail);
        assertThat(problem.has("field")).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "logit_bias        | {\"prompt\": \"x\", \"logit_bias\": {\"50256\": -100}}",
        "presence_penalty  | {\"prompt\": \"x\", \"presence_penalty\": 0.5}",
        "frequency_penalty | {\"prompt\": \"x\", \"frequency_penalty\": 1}",
        "suffix            | {\"prompt\": \"x\", \"suffix\": \" the end\"}",
        "best_of           | {\"prompt\": \"x\", \"best_of\": 3}",
        "max_tokens        | {\"prompt\": \"x\", \"max_tokens\": 6.5}",
        "echo              | {\"prompt\": \"x\", \"echo\": \"yes\"}",
        "functions         | {\"prompt\": \"x\", \"functions\": []}",
        "stream_options.include_usage | {\"prompt\": \"x\", \"stream\": true, \"stream_options\": {\"include_usage\": 1}}",
    })
    void openAiParametersThisServiceDoesNotImplementAreRefusedByName(String param, String body) {
        var r = new HttpTestClient(port).postJson("/v1/completions", body.strip());
        JsonNode problem = ProblemAssertions.assertProblem(r, 400);
        assertThat(problem.get("error").get("param").asString()).isEqualTo(param);
        assertThat(problem.get("error").get("type").asString()).isEqualTo("invalid_request_error");
        assertThat(problem.get("error").get("message").asString()).startsWith(param + ": ");
    }

    @Test
    void openAiParametersThatChangeNothingAreTaken() {
        var r = new HttpTestClient(port).postJson("/v1/completions", "{\"prompt\": \"Hello, I am\", \"max_tokens\": 1, "
                + "\"temperature\": 0, \"logit_bias\": {}, \"presence_penalty\": 0, \"frequency_penalty\": 0, \"suffix\": \"\", "
                + "\"best_of\": 1, \"n\": 1, \"user\": \"someone\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("choices").get(0).get("text").asString()).isEqualTo(" Feature");
        // a missing model is the served one
        assertThat(r.json().get("model").asString()).isEqualTo("gpt2-small");
    }

    @Test
    void anUnknownModelIsOpenAisModelNotFound() {
        var r = new HttpTestClient(port).postJson("/v1/completions", "{\"model\": \"gpt-4\", \"prompt\": \"Hi\", \"max_tokens\": 1}");
        JsonNode problem = ProblemAssertions.assertProblem(r, 404);
        assertThat(problem.get("detail").asString()).contains("gpt2-small");
        JsonNode error = problem.get("error");
        assertThat(error.get("type").asString()).isEqualTo("invalid_request_error");
        assertThat(error.get("code").asString()).isEqualTo("model_not_found");
        assertThat(error.get("param").asString()).isEqualTo("model");
        assertThat(error.get("message").asString()).isEqualTo(problem.get("detail").asString());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "/generate        | prompt | {\"prompt\": \"\\ud800abc\", \"maxNewTokens\": 1}",
        "/generate        | stop   | {\"prompt\": \"Hi\", \"maxNewTokens\": 1, \"stop\": [\"a\\udc00\"]}",
        "/generate/stream | prompt | {\"prompt\": \"abc\\udfff\", \"maxNewTokens\": 1}",
        "/v1/completions  | prompt | {\"prompt\": [\"Hi\", \"\\ud800\"], \"max_tokens\": 1, \"echo\": true}",
        "/v1/completions  | stop   | {\"prompt\": \"Hi\", \"max_tokens\": 1, \"stop\": \"\\ud83d\"}",
        "/tokenize        | text   | {\"text\": \"\\ud800\\ud800\"}",
    })
    void aLoneSurrogateIsRefusedNamingTheField(String path, String field, String body) {
        var r = new HttpTestClient(port).postJson(path, body.strip());
        JsonNode problem = ProblemAssertions.assertProblem(r, 400);
        assertThat(problem.get("field").asString()).isEqualTo(field);
        assertThat(problem.get("detail").asString()).startsWith(field + ": is not valid Unicode: a lone surrogate");
        StrictJson.parse(r.bytes());
    }

    @ParameterizedTest(name = "{0} {2}")
    @CsvSource(delimiter = '|', value = {
        "/generate        | /text           | {\"prompt\": \"\\ud83d\\ude00 caf\\u00e9\", \"maxNewTokens\": 3, \"logprobs\": 3}",
        "/v1/completions  | /choices/0/text | {\"prompt\": \"\\ud83d\\ude00 caf\\u00e9\", \"max_tokens\": 3, \"temperature\": 0, \"echo\": true}",
        "/v1/completions  | /model          | {\"prompt\": \"\\ud83d\\ude00 caf\\u00e9\", \"max_tokens\": 3, \"temperature\": 0, \"logprobs\": 3}",
        "/tokenize        | /tokens         | {\"text\": \"\\ud83d\\ude00 caf\\u00e9\"}",
    })
    void wholeCharactersComeBackAsStrictUtf8Json(String path, String pointer, String body) {
        var r = new HttpTestClient(port).postJson(path, body.strip());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode answer = StrictJson.parse(r.bytes());
        if (pointer.endsWith("text")) {
            assertThat(answer.at(pointer).asString()).startsWith("\ud83d\ude00 caf\u00e9");
        } else {
            assertThat(answer.at(pointer).isMissingNode()).isFalse();
        }
    }

    @Test
    void moreCompletionsThanTheQueueCanEverHoldIsA400NamingN() {
        // 11 prompts x n 8 = 88: a request may run a quarter of the 16 slots and wait in the 64 queue places
        String prompts = "[\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"k\"]";
        var r = new HttpTestClient(port).postJson("/v1/completions", "{\"prompt\": " + prompts + ", \"max_tokens\": 1, \"n\": 8}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.raw().headers().firstValue("Retry-After")).isEmpty();
        assertThat(r.json().get("field").asString()).isEqualTo("n");
        assertThat(r.json().get("detail").asString()).contains("88").contains("at most 68");
    }

    @Test
    void unsupportedMediaTypeIs415Problem() {
        var r = new HttpTestClient(port).post("/generate", "text/plain", "Hello");
        assertThat(r.status()).isEqualTo(415);
        assertThat(r.contentType()).startsWith("application/problem+json");
    }

    @Test
    void unknownPathIs404Problem() {
        var r = new HttpTestClient(port).get("/no/such/thing");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.contentType()).startsWith("application/problem+json");
    }

    @Test
    void detokenizeRefusesIdsOutsideTheVocabulary() {
        var r = new HttpTestClient(port).postJson("/detokenize", "{\"tokens\": [1, 60000]}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("detail").asString()).contains("tokens").contains("60000");
    }
}
