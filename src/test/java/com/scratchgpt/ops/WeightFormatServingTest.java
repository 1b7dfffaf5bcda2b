package com.scratchgpt.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import com.scratchgpt.Fixtures;
import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * A checkpoint served in q8_0 through the real service: /model/params says so and counts what the weights hold,
 * the gpt.model.memory gauge and /actuator/info follow it, and generation runs. A small checkpoint (tiny-hf,
 * tied head, emb 16: rows padded to one block of 32), so that this context costs little beside the others.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "gpt.model.weight-format=q8_0")
class WeightFormatServingTest {

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void checkpoint(DynamicPropertyRegistry registry) {
        registry.add("gpt.model.path", () -> Fixtures.of("tiny-hf").dir().toString());
    }

    @Test
    void paramsMetricAndInfoReportTheFormatAndWhatItHolds() {
        HttpTestClient http = new HttpTestClient(port);
        JsonNode params = http.get("/model/params").json();
        long resident = params.get("residentBytes").asLong();

        assertThat(params.get("weightFormat").asString()).isEqualTo("q8_0");
        assertThat(params.get("sizeBytes").asLong()).as("the book's float32 size")
                .isEqualTo(Fixtures.of("tiny-hf").totalParams() * 4);
        // emb 16, so every row of 16 weights is one block padded to 32 (32 levels and a 2-byte scale), rows of 64
        // two: the token embedding (the tied head) 50257 rows and 3 of zeros filling its last group of four, per
        // block qkv 48 + out_proj 16 + fc 64 rows of one block and the projection's 16 rows of two; float32 for the
        // position embedding (24 x 16), LayerNorms and biases (832 values)
        long expected = 50260L * 34 + 2 * ((48 + 16 + 64) * 34 + 16 * 68) + 832 * 4;
        assertThat(resident).isEqualTo(expected);
        assertThat(http.get("/actuator/metrics/gpt.model.memory").json().get("measurements").get(0).get("value").asDouble())
                .isEqualTo((double) resident);
        JsonNode info = http.get("/actuator/info").json().get("model");
        assertThat(info.get("weightFormat").asString()).isEqualTo("q8_0");
        assertThat(info.get("memoryBytes").asLong()).isEqualTo(resident);
    }

    @Test
    void generatesWithItsWeightsInQ8() {
        var r = new HttpTestClient(port).postJson("/generate", "{\"promptTokens\": [15496, 11, 314, 716], \"maxNewTokens\": 5}");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("generatedTokens").size()).isEqualTo(5);
    }
}
