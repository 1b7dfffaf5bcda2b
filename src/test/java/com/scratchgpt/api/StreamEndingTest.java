package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.IdleScheduler;
import com.scratchgpt.OverloadContext;
import com.scratchgpt.HttpTestClient.Event;
import com.scratchgpt.generation.BatchScheduler;

import tools.jackson.databind.JsonNode;

/**
 * How both streams (/generate/stream and the OpenAI one) end when they cannot finish: at the deadline, one
 * {@code error} event (an RFC 9457 problem, 503; OpenAI's error object too on /v1, then {@code [DONE]}) and
 * the stream closes; on shutdown the same with the shutdown's detail; when every slot is taken, a plain 429
 * before any event. One generation slot, no queue and a 3 s deadline (the same context as OverloadApiTest).
 */
@OverloadContext
@ExtendWith(IdleScheduler.class)
class StreamEndingTest {

    static final String GENERATE_LONG = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1000}";
    static final String OPENAI_LONG = "{\"prompt\": \"Hello, I am\", \"max_tokens\": 1000, \"temperature\": 0, \"stream\": true}";

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;
    @Autowired
    EventStream streams;

    @AfterEach
    void theSlotAndTheKvCacheAreFreeAgain() {
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0 && scheduler.kvCacheUsed() == 0);
    }

    @Test
    void generateStreamPastItsDeadlineSendsTheTokensThenOneErrorEventAndCloses() throws Exception {
        List<Event> events = readToTheEnd("/generate/stream", GENERATE_LONG);

        Event error = events.get(events.size() - 1);
        assertThat(events.subList(0, events.size() - 1)).isNotEmpty().allMatch(e -> "token".equals(e.name()));
        assertThat(error.name()).isEqualTo("error");
        assertDeadlineProblem(error.json(), "/generate/stream");
        assertThat(error.json().has("error")).isFalse();
    }

    @Test
    void openAiStreamPastItsDeadlineSendsTheChunksThenOneErrorEventThenDoneAndCloses() throws Exception {
        List<Event> events = readToTheEnd("/v1/completions", OPENAI_LONG);

        Event error = events.get(events.size() - 2);
        Event done = events.get(events.size() - 1);
        assertThat(events.subList(0, events.size() - 2)).isNotEmpty().allMatch(e -> e.name() == null
                && e.json().get("object").asString().equals("text_completion"));
        assertThat(error.name()).isEqualTo("error");
        JsonNode problem = error.json();
        assertDeadlineProblem(problem, "/v1/completions");
        JsonNode openAi = problem.get("error");
        assertThat(openAi.get("message").asString()).isEqualTo(problem.get("detail").asString());
        assertThat(openAi.get("type").asString()).isEqualTo("server_error");
        assertThat(openAi.has("param")).isTrue();
        assertThat(openAi.has("code")).isTrue();
        assertThat(done.name()).isNull();
        assertThat(done.data()).isEqualTo("[DONE]");
    }

    @Test
    void officialOpenAiClientRaisesTheStreamedDeadlineError() throws Exception {
        assertThat(OpenAiClientTest.check(port, "deadline").output()).contains("1 passed, 0 failed");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/generate/stream | {\"prompt\": \"Hi\", \"maxNewTokens\": 2}",
        "/v1/completions  | {\"prompt\": \"Hi\", \"max_tokens\": 2, \"stream\": true}",
    })
    void aStreamBeyondTheLimitsIsRefusedWith429BeforeAnyEvent(String path, String body) throws Exception {
        HttpTestClient http = new HttpTestClient(port);
        try (HttpTestClient.EventStream first = http.stream(path, path.startsWith("/v1") ? OPENAI_LONG : GENERATE_LONG)) {
            assertThat(first.next()).isNotNull(); // it holds the one generation slot
            assertThat(scheduler.running()).isEqualTo(1);

            try (HttpTestClient.EventStream refused = http.stream(path, body)) {
                assertThat(refused.response().statusCode()).isEqualTo(429);
                assertThat(refused.response().headers().firstValue("Content-Type")).hasValueSatisfying(
                        type -> assertThat(type).startsWith("application/problem+json"));
                assertThat(refused.response().headers().firstValue("Retry-After")).isPresent();
                String problem = new String(refused.response().body().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(problem).doesNotContain("event:").doesNotContain("data:");
                JsonNode json = HttpTestClient.parse(problem);
                assertThat(json.get("status").asInt()).isEqualTo(429);
                assertThat(json.get("detail").asString()).contains("slots");
                assertThat(json.has("error")).isEqualTo(path.startsWith("/v1"));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/generate/stream | " + GENERATE_LONG,
        "/v1/completions  | " + OPENAI_LONG,
    })
    void onShutdownAnOpenStreamGetsTheSameErrorEventWith503(String path, String body) throws Exception {
        try (HttpTestClient.EventStream stream = new HttpTestClient(port).stream(path, body)) {
            assertThat(stream.next()).isNotNull();
            streams.stop(); // what the context does after the web server's graceful phase
            try {
                Event error = stream.nextNamed("error");
                JsonNode problem = error.json();
                assertThat(problem.get("status").asInt()).isEqualTo(503);
                assertThat(problem.get("title").asString()).isEqualTo("Generation cancelled");
                assertThat(problem.get("detail").asString()).isEqualTo("generation was cancelled: the service is shutting down");
                assertThat(problem.has("error")).isEqualTo(path.startsWith("/v1"));
                List<Event> after = new ArrayList<>();
                for (Event e = stream.next(); e != null; e = stream.next()) {
                    after.add(e);
                }
                assertThat(after).map(Event::data).containsExactlyElementsOf(
                        path.startsWith("/v1") ? List.of("[DONE]") : List.of());
            } finally {
                streams.start();
            }
        }
    }

    private List<Event> readToTheEnd(String path, String body) throws Exception {
        List<Event> events = new ArrayList<>();
        try (HttpTestClient.EventStream stream = new HttpTestClient(port).stream(path, body)) {
            assertThat(stream.response().statusCode()).isEqualTo(200);
            for (Event e = stream.next(); e != null; e = stream.next()) {
                events.add(e);
            }
        }
        return events;
    }

    private static void assertDeadlineProblem(JsonNode problem, String path) {
        assertThat(problem.get("status").asInt()).isEqualTo(503);
        assertThat(problem.get("title").asString()).isEqualTo("Deadline exceeded");
        assertThat(problem.get("detail").asString()).startsWith("generation passed its deadline after");
        assertThat(problem.get("instance").asString()).isEqualTo(path);
    }
}
