package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * A seeded request gives the same text in any company: {@code /v1/completions} with {@code n: 2} and a seed,
 * whose two choices may share every step or be admitted one step apart, called again and again, alone and
 * while identical calls run beside it, returns the same two texts and the same log-probabilities each time.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SeededCompletionsTest {

    /** A prompt past the kernels' 12 rows, so that choices read together go through sgemm as one chunk each. */
    private static final String REQUEST = """
            {"prompt": "The quick brown fox jumps over the lazy dog, and then the dog runs after the fox into the woods",
             "n": 2, "seed": 7, "max_tokens": 24, "temperature": 1.0, "logprobs": 1}""";

    @LocalServerPort
    int port;

    @Test
    void nTwoWithASeedGivesTheSameTextsOnEveryCall() {
        HttpTestClient http = new HttpTestClient(port);
        List<String> first = choices(http);
        assertThat(first).hasSize(2);
        assertThat(first.get(0)).as("the two choices sample with seeds 7 and 8").isNotEqualTo(first.get(1));
        for (int call = 0; call < 4; call++) {
            assertThat(choices(http)).as("call %d", call + 2).isEqualTo(first);
        }
    }

    @Test
    void nTwoWithASeedGivesTheSameTextsWhileIdenticalCallsRunBesideIt() {
        HttpTestClient http = new HttpTestClient(port);
        List<String> alone = choices(http);
        List<CompletableFuture<List<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> choices(new HttpTestClient(port))));
        }
        for (int i = 0; i < calls.size(); i++) {
            assertThat(calls.get(i).join()).as("concurrent call %d", i).isEqualTo(alone);
        }
    }

    /** Each choice's text and its tokens' log-probabilities, exactly as sent. */
    private static List<String> choices(HttpTestClient http) {
        HttpTestClient.Response r = http.postJson("/v1/completions", REQUEST);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        for (JsonNode choice : r.json().get("choices")) {
            out.add(choice.get("text").asString() + " " + choice.get("logprobs").get("token_logprobs"));
        }
        return out;
    }
}
