package com.scratchgpt.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.RawHttp;

import tools.jackson.databind.JsonNode;

/** Actuator exposure, the model health component, info, metrics that move, and the API docs. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OperationsApiTest {

    @LocalServerPort
    int port;

    @Test
    void exposesOnlyHealthInfoMetricsAndPrometheus() {
        JsonNode links = new HttpTestClient(port).get("/actuator").json().get("_links");
        assertThat(links.propertyNames()).allMatch(name -> name.equals("self") || name.startsWith("health")
                || name.startsWith("info") || name.startsWith("metrics") || name.startsWith("prometheus"));
        assertThat(new HttpTestClient(port).get("/actuator/env").status()).isEqualTo(404);
        assertThat(new HttpTestClient(port).get("/actuator/beans").status()).isEqualTo(404);
    }

    @Test
    void healthReportsTheModelComponentUpAndProbeGroups() {
        HttpTestClient http = new HttpTestClient(port);
        JsonNode health = http.get("/actuator/health").json();
        assertThat(health.get("status").asString()).isEqualTo("UP");
        assertThat(health.get("components").get("model").get("status").asString()).isEqualTo("UP");
        assertThat(http.get("/actuator/health/liveness").status()).isEqualTo(200);
        JsonNode readiness = http.get("/actuator/health/readiness").json();
        assertThat(readiness.get("status").asString()).isEqualTo("UP");
        assertThat(readiness.get("components").propertyNames()).containsExactlyInAnyOrder("readinessState", "model", "queue");
        assertThat(readiness.get("components").get("queue").get("status").asString()).isEqualTo("UP");
    }

    @Test
    void healthTellsAnonymousCallersStatusesOnlyNothingAboutTheHost() {
        HttpTestClient http = new HttpTestClient(port);
        for (String path : new String[] {"/actuator/health", "/actuator/health/readiness", "/actuator/health/model",
                "/actuator/health/diskSpace"}) {
            var r = http.get(path);
            assertThat(r.json().findValues("details")).as(path).isEmpty();
            assertThat(r.body()).as(path).doesNotContain(System.getProperty("user.dir")).doesNotContain("total")
                    .doesNotContain("free").doesNotContain("source");
        }
    }

    @Test
    void infoDescribesTheModelAndBackend() {
        JsonNode info = new HttpTestClient(port).get("/actuator/info").json();
        assertThat(info.get("model").get("totalParameters").asLong()).isEqualTo(163_009_536L);
        assertThat(info.get("model").get("dtype").asString()).isEqualTo("F32");
        assertThat(info.get("nd4j").get("blasVendor").asString()).isEqualTo("OPENBLAS");
        assertThat(info.get("build").get("artifact").asString()).isEqualTo("scratchgpt");
        assertThat(info.has("git")).isTrue();
        // nothing about the host: no kernel, no JVM build, no paths
        assertThat(info.has("os")).isFalse();
        assertThat(info.has("java")).isFalse();
        assertThat(info.get("model").get("source").asString()).doesNotContain("/");
        assertThat(info.toString()).doesNotContain(System.getProperty("user.dir")).doesNotContain(System.getProperty("java.version"));
    }

    @Test
    void apiDocsNameTheServerRelativelyWhateverHostTheClientClaims() {
        RawHttp.Answer answer = RawHttp.send(port, "GET /v3/api-docs HTTP/1.1\r\nHost: attacker.example:666\r\n"
                + "X-Forwarded-Host: other.example\r\nConnection: close\r\n\r\n");
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.text()).doesNotContain("attacker.example").doesNotContain("other.example");
        JsonNode servers = HttpTestClient.parse(answer.text()).get("servers");
        assertThat(servers.size()).isEqualTo(1);
        assertThat(servers.get(0).get("url").asString()).isEqualTo("/");
    }

    @Test
    void apiDocsDescribeStreamsAndOpenAiFieldsWithoutInternalTypes() {
        JsonNode docs = new HttpTestClient(port).get("/v3/api-docs").json();
        assertThat(docs.get("components").get("schemas").propertyNames())
                .noneMatch(name -> name.matches("SseEmitter|ResponseBodyEmitter|JsonNode|ObjectNode|ArrayNode|ResponseEntity.*|Object|Map.*"));
        assertThat(docs.toString()).doesNotContain("SseEmitter").doesNotContain("JsonNode").doesNotContain("ResponseEntity");
        JsonNode generateStream = docs.at("/paths/~1generate~1stream/post/responses/200/content");
        assertThat(generateStream.propertyNames()).containsExactly("text/event-stream");
        assertThat(generateStream.at("/text~1event-stream/schema/type").asString()).isEqualTo("string");
        JsonNode completions = docs.at("/paths/~1v1~1completions/post/responses/200/content");
        assertThat(completions.at("/application~1json/schema/$ref").asString()).endsWith("/Completion");
        assertThat(completions.at("/text~1event-stream/schema/type").asString()).isEqualTo("string");
        JsonNode request = docs.at("/components/schemas/CompletionRequest/properties");
        assertThat(request.at("/prompt/oneOf").size()).isEqualTo(4);
        assertThat(request.at("/stop/oneOf").size()).isEqualTo(2);
        assertThat(request.propertyNames()).contains("user", "suffix", "best_of", "logit_bias", "presence_penalty",
                "frequency_penalty", "stream_options");
        assertThat(docs.at("/paths/~1v1~1completions/post/responses/404/content/application~1problem+json/example").toString())
                .contains("model_not_found");
    }

    @Test
    void generationMetricsMoveWithRequests() {
        HttpTestClient http = new HttpTestClient(port);
        double before = metric(http, "gpt.generation.tokens");
        double countBefore = metric(http, "gpt.generation.duration");
        double successesBefore = metric(http, "gpt.generation.duration?tag=outcome:success");
        assertThat(http.postJson("/generate", "{\"prompt\": \"Hi\", \"maxNewTokens\": 3}").status()).isEqualTo(200);
        assertThat(metric(http, "gpt.generation.tokens")).isEqualTo(before + 3);
        assertThat(metric(http, "gpt.generation.duration")).isEqualTo(countBefore + 1);
        assertThat(metric(http, "gpt.generation.duration?tag=outcome:success")).isEqualTo(successesBefore + 1);
        assertThat(http.get("/actuator/metrics/gpt.generation.duration").json().get("availableTags").get(0).get("values")
                .valueStream().map(JsonNode::asString))
                .containsExactlyInAnyOrder("success", "deadline", "cancelled", "overloaded", "error");
        assertThat(metric(http, "gpt.model.parameters")).isEqualTo(163_009_536.0);
        assertThat(metric(http, "gpt.model.memory")).isEqualTo(163_009_536.0 * 4);
        // the process holds the off-heap weights besides the JVM
        assertThat(metric(http, "gpt.process.physical")).isGreaterThan(metric(http, "gpt.model.memory"));
        assertThat(metric(http, "gpt.kv.cache.memory")).isEqualTo(8192.0 * 2 * 12 * 768 * 4);
        String prometheus = http.get("/actuator/prometheus").body();
        assertThat(prometheus.lines()).anyMatch(line -> line.startsWith("gpt_generation_duration_seconds_bucket{")
                && line.contains("outcome=\"success\""));
        assertThat(prometheus).contains("gpt_generation_time_to_first_token_seconds")
                .contains("gpt_generation_tokens_total").contains("gpt_model_memory_bytes");
    }

    @Test
    void openApiDocumentsEveryEndpointAndSwaggerUiIsServed() {
        HttpTestClient http = new HttpTestClient(port);
        JsonNode paths = http.get("/v3/api-docs").json().get("paths");
        assertThat(paths.propertyNames()).contains("/generate", "/generate/stream", "/model/params", "/model/presets",
                "/tokenize", "/detokenize");
        assertThat(paths.get("/generate").get("post").get("responses").propertyNames()).contains("200", "400", "415", "429", "503");
        assertThat(paths.get("/generate").get("post").get("responses").get("400").get("content")
                .get("application/problem+json").get("example").toString()).contains("maxNewTokens");
        // "Try it out" sends the documented example: it must work as it is
        for (String path : new String[] {"/generate", "/v1/completions"}) {
            JsonNode example = paths.get(path).get("post").get("requestBody").get("content").get("application/json")
                    .get("examples").properties().iterator().next().getValue().get("value");
            assertThat(http.postJson(path, example.toString()).status()).as(path).isEqualTo(200);
        }
        assertThat(http.get("/swagger-ui.html").status()).isIn(200, 302);
        assertThat(http.get("/swagger-ui/index.html").status()).isEqualTo(200);
    }

    private static double metric(HttpTestClient http, String name) {
        return http.get("/actuator/metrics/" + name).json().get("measurements").get(0).get("value").asDouble();
    }
}
