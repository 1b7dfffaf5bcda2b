package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

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
