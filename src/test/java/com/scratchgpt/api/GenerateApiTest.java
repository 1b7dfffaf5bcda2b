package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/** POST /generate and /generate/stream over real HTTP on the default (seed-123) model. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class GenerateApiTest {

    @LocalServerPort
    int port;
    HttpTestClient http;

    @BeforeEach
    void client() {
        http = new HttpTestClient(port);
    }

    @Test
    void continuesHelloIAmWithTheBooksOutput() {
        var r = http.postJson("/generate", "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}");
        assertThat(r.status()).isEqualTo(200);
        JsonNode body = r.json();
        assertThat(body.get("generatedText").asString()).isEqualTo(" Featureiman Byeswickattribute argue");
        assertThat(body.get("text").asString()).isEqualTo("Hello, I am Featureiman Byeswickattribute argue");
        assertThat(ints(body.get("generatedTokens"))).containsExactly(27018, 24086, 47843, 30961, 42348, 7267);
        assertThat(body.get("finishReason").asString()).isEqualTo("length");
        assertThat(body.get("usage").get("promptTokens").asInt()).isEqualTo(4);
        assertThat(body.get("usage").get("generatedTokens").asInt()).isEqualTo(6);
    }

    @Test
    void promptTokensAndLogprobsFollowTheReference() {
        var r = http.postJson("/generate", "{\"promptTokens\": [15496, 11, 314, 716], \"maxNewTokens\": 2, \"logprobs\": 3}");
        assertThat(r.status()).isEqualTo(200);
        JsonNode lp = r.json().get("logprobs");
        assertThat(lp.size()).isEqualTo(2);
        assertThat(lp.get(0).get("token").asInt()).isEqualTo(27018);
        assertThat(lp.get(0).get("text").asString()).isEqualTo(" Feature");
        assertThat(lp.get(0).get("logprob").asDouble()).isCloseTo(-8.49025020721916, org.assertj.core.data.Offset.offset(1e-3));
        assertThat(lp.get(0).get("top").size()).isEqualTo(3);
        assertThat(lp.get(0).get("top").get(1).get("token").asInt()).isEqualTo(40179);
    }

    @Test
    void zeroNewTokensReturnsThePromptAlone() {
        var r = http.postJson("/generate", "{\"prompt\": \"Hello\", \"maxNewTokens\": 0}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("generatedText").asString()).isEmpty();
        assertThat(r.json().get("text").asString()).isEqualTo("Hello");
        assertThat(r.json().get("finishReason").asString()).isEqualTo("length");
    }

    @Test
    void streamSendsOneTokenEventPerTokenThenDoneWithTheSameText() {
        var r = http.postJson("/generate/stream", "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("text/event-stream");
        List<String> events = new ArrayList<>();
        List<JsonNode> data = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("event:")) {
                events.add(line.substring(6).trim());
            } else if (line.startsWith("data:")) {
                data.add(HttpTestClient.parse(line.substring(5)));
            }
        }
        assertThat(events).containsExactly("token", "token", "token", "token", "token", "token", "done");
        StringBuilder streamed = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            assertThat(data.get(i).get("index").asInt()).isEqualTo(i);
            streamed.append(data.get(i).get("text").asString());
        }
        JsonNode done = data.get(6);
        assertThat(streamed.toString()).isEqualTo(done.get("generatedText").asString())
                .isEqualTo(" Featureiman Byeswickattribute argue");
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
