package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.AttackContext;
import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * What one request may ask, refused at once with a 400 naming the field rather than run for minutes or
 * refused with 429 forever: more sequences than its share of the slots and the queue can ever hold, and
 * more tokens past the context than gpt.generation.max-tokens-past-context (32 by default); within the
 * bounds, a request's sequences beyond its share wait their turn.
 */
@AttackContext
class RequestBoundsTest {

    @LocalServerPort
    int port;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "{\"prompt\": [\"a\", \"b\"], \"max_tokens\": 2, \"n\": 8}                                  | n      | 16",
        "{\"prompt\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\"], \"max_tokens\": 2} | prompt | 10",
    })
    void moreSequencesThanOneRequestCanEverHoldIsA400NamingTheField(String body, String field, int sequences) {
        var r = new HttpTestClient(port).postJson("/v1/completions", body);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().get("field").asString()).isEqualTo(field);
        assertThat(r.json().get("error").get("param").asString()).isEqualTo(field);
        assertThat(r.json().get("detail").asString()).contains(String.valueOf(sequences)).contains("at most 9");
    }

    @Test
    void choicesBeyondTheShareWaitTheirTurnAndAllFinish() {
        var r = new HttpTestClient(port).postJson("/v1/completions",
                "{\"prompt\": \"Hello, I am\", \"max_tokens\": 3, \"n\": 4, \"temperature\": 0}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("choices")).hasSize(4).allSatisfy(c -> assertThat(c.get("finish_reason").asString())
                .isEqualTo("length"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/generate       | promptTokens | maxNewTokens | maxNewTokens",
        "/v1/completions | prompt       | max_tokens   | max_tokens",
    })
    void tokensPastTheContextBeyondTheLimitAreA400NamingTheField(String path, String promptField, String maxField,
                                                                 String expectedField) {
        // 1030 tokens: every token generated recomputes the whole 1024-token window; 33 are allowed (32 past it)
        String prompt = Arrays.stream(new Random(3).ints(1030, 0, 50257).toArray()).mapToObj(String::valueOf)
                .collect(Collectors.joining(",", "[", "]"));
        HttpTestClient http = new HttpTestClient(port);
        var refused = http.postJson(path, "{\"" + promptField + "\": " + prompt + ", \"" + maxField + "\": 34, \"temperature\": 0}");
        assertThat(refused.status()).isEqualTo(400);
        JsonNode problem = refused.json();
        assertThat(problem.get("field").asString()).isEqualTo(expectedField);
        assertThat(problem.get("detail").asString()).contains("1030").contains("1024").contains("at most 33");

        // the first token reads the cropped window once, like any prompt
        var within = http.postJson(path, "{\"" + promptField + "\": " + prompt + ", \"" + maxField + "\": 1, \"temperature\": 0}");
        assertThat(within.status()).isEqualTo(200);
    }
}
