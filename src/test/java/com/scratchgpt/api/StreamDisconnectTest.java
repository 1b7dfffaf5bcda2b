package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.IdleScheduler;
import com.scratchgpt.generation.BatchScheduler;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * A streaming client that goes away stops its generation and frees its KV cache at the scheduler's next
 * step, on both streams, and the server says so in at most one quiet line: no exception, no stack trace.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith({OutputCaptureExtension.class, IdleScheduler.class})
class StreamDisconnectTest {

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;
    @Autowired
    MeterRegistry registry;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/generate/stream | {\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1000}",
        "/v1/completions  | {\"prompt\": \"Hello, I am\", \"max_tokens\": 1000, \"temperature\": 0, \"stream\": true}",
        "/v1/completions  | {\"prompt\": [\"Hello, I am\", \"Hi\"], \"max_tokens\": 1000, \"n\": 2, \"temperature\": 0, \"stream\": true}",
    })
    void disconnectingCancelsTheGenerationsAndFreesTheirKvCacheQuietly(String path, String body, CapturedOutput output)
            throws Exception {
        awaitIdle();
        int runningBefore = scheduler.running();
        int waitingBefore = scheduler.waiting();
        int kvCacheBefore = scheduler.kvCacheUsed();
        double generatedBefore = registry.counter("gpt.generation.tokens").count();
        long cancelledBefore = registry.timer("gpt.generation.duration", "outcome", "cancelled").count();
        int choices = body.contains("\"n\": 2") ? 4 : 1;
        long servedBefore = requestsServed(path);
        int logFrom = output.getAll().length();
        try (HttpTestClient.EventStream stream = new HttpTestClient(port).stream(path, body)) {
            assertThat(stream.response().statusCode()).isEqualTo(200);
            for (int i = 0; i < 3; i++) {
                assertThat(stream.next()).isNotNull();
            }
            // a request holds at most a quarter of the KV cache (2048 positions): two of four choices run, two wait
            assertThat(scheduler.running() + scheduler.waiting()).as("choices running or waiting their turn")
                    .isEqualTo(runningBefore + waitingBefore + choices);
            assertThat(scheduler.kvCacheUsed()).isGreaterThan(kvCacheBefore);
        } // the client goes away

        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == runningBefore
                && scheduler.waiting() == waitingBefore && scheduler.kvCacheUsed() == kvCacheBefore);
        await().atMost(Duration.ofSeconds(30)).until(() ->
                registry.timer("gpt.generation.duration", "outcome", "cancelled").count() == cancelledBefore + choices);
        // the request never completed, so no tokens were counted as a finished request's
        assertThat(registry.counter("gpt.generation.tokens").count()).isEqualTo(generatedBefore);
        // the server has seen the request through to its end (the timer records it last), logging included
        await().atMost(Duration.ofSeconds(30)).until(() -> requestsServed(path) == servedBefore + 1);
        String log = output.getAll().substring(logFrom);
        assertThat(log).doesNotContain("\tat ").doesNotContain("Exception").doesNotContain("ERROR").doesNotContain("WARN");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/generate        | {\"prompt\": \"Hello, I am\", \"maxNewTokens\": 40, \"logprobs\": 20}",
        "/v1/completions  | {\"prompt\": \"Hello, I am\", \"max_tokens\": 40, \"temperature\": 0, \"logprobs\": 20}",
    })
    void aClientThatLeavesBeforeItsWholeAnswerLeavesNoExceptionInTheLog(String path, String body, CapturedOutput output)
            throws Exception {
        awaitIdle();
        long servedBefore = requestsServed(path);
        long cancelledBefore = registry.timer("gpt.generation.duration", "outcome", "cancelled").count();
        int logFrom = output.getAll().length();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("localhost", port)) {
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
        } // the client goes away before its answer (tens of kilobytes of log-probabilities) is written

        await().atMost(Duration.ofSeconds(120)).until(() -> requestsServed(path) == servedBefore + 1);
        // the generation is cancelled once the closed connection is seen, or its answer's write fails
        assertThat(registry.timer("gpt.generation.duration", "outcome", "cancelled").count() > cancelledBefore
                || !registry.find("http.server.requests").tag("uri", path).tag("exception", "IOException").timers().isEmpty())
                .as("cancelled, or the answer's write failed").isTrue();
        String log = output.getAll().substring(logFrom);
        assertThat(log).doesNotContain("\tat ").doesNotContain("Exception").doesNotContain("ERROR").doesNotContain("WARN");
    }

    /** Waits for the generations of the tests before to leave the scheduler (a cancelled one leaves at its next step). */
    private void awaitIdle() {
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0 && scheduler.waiting() == 0);
    }

    /** Requests to {@code path} the server has finished with, however they ended. */
    private long requestsServed(String path) {
        return registry.find("http.server.requests").tag("uri", path).timers().stream().mapToLong(Timer::count).sum();
    }
}
