package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/** GET /model/params and /model/presets, and the tokenizer endpoints, over real HTTP. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ModelApiTest {

    @LocalServerPort
    int port;

    @Test
    void paramsOfTheDefaultModelMatchTheSeeds() {
        JsonNode p = new HttpTestClient(port).get("/model/params").json();
        assertThat(p.get("totalParameters").asLong()).isEqualTo(163_009_536L);
        assertThat(p.get("parametersWithWeightTying").asLong()).isEqualTo(124_412_160L);
        assertThat(p.get("tiedOutputHead").asBoolean()).isFalse();
        assertThat(p.get("sizeMb").asDouble()).isEqualTo(621.83);
        assertThat(p.get("weightFormat").asString()).isEqualTo("f32");
        assertThat(p.get("residentBytes").asLong()).as("float32: the book's size").isEqualTo(652_038_144L);
        assertThat(p.get("components").get("transformerBlocks").asLong()).isEqualTo(85_026_816L);
        assertThat(p.get("components").get("outputHead").asLong()).isEqualTo(38_597_376L);
        assertThat(p.get("perBlock").get("total").asLong()).isEqualTo(7_085_568L);
        assertThat(p.get("config").get("embDim").asInt()).isEqualTo(768);
        assertThat(p.get("config").get("qkvBias").asBoolean()).isFalse();
        assertThat(p.get("config").get("dropRate").asDouble()).isEqualTo(0.1);
    }

    @Test
    void presetsListTheFourGpt2Sizes() {
        JsonNode presets = new HttpTestClient(port).get("/model/presets").json();
        assertThat(presets.size()).isEqualTo(4);
        long[] totals = {163_009_536L, 406_212_608L, 838_220_800L, 1_637_792_000L};
        String[] names = {"gpt2-small", "gpt2-medium", "gpt2-large", "gpt2-xl"};
        int[][] sizes = {{768, 12, 12}, {1024, 24, 16}, {1280, 36, 20}, {1600, 48, 25}};
        for (int i = 0; i < 4; i++) {
            JsonNode p = presets.get(i);
            assertThat(p.get("name").asString()).isEqualTo(names[i]);
            assertThat(p.get("totalParameters").asLong()).isEqualTo(totals[i]);
            long head = 50257L * sizes[i][0];
            assertThat(p.get("parametersWithWeightTying").asLong()).isEqualTo(totals[i] - head);
            assertThat(p.get("sizeMb").asDouble()).isEqualTo(Math.round(totals[i] * 4 / 1024.0 / 1024.0 * 100) / 100.0);
            assertThat(p.get("config").get("embDim").asInt()).isEqualTo(sizes[i][0]);
            assertThat(p.get("config").get("nLayers").asInt()).isEqualTo(sizes[i][1]);
            assertThat(p.get("config").get("nHeads").asInt()).isEqualTo(sizes[i][2]);
        }
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() {
        HttpTestClient http = new HttpTestClient(port);
        JsonNode tokens = http.postJson("/tokenize", "{\"text\": \"Hello, I am\"}").json().get("tokens");
        assertThat(tokens.toString()).isEqualTo("[15496,11,314,716]");
        String text = http.postJson("/detokenize", "{\"tokens\": [15496, 11, 314, 716, 50256]}").json().get("text").asString();
        assertThat(text).isEqualTo("Hello, I am<|endoftext|>");
    }
}
