package com.scratchgpt.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.IdleScheduler;
import com.scratchgpt.OverloadContext;
import com.scratchgpt.generation.BatchScheduler;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Beyond the generation slots and the queue, requests get 429 with Retry-After; a deadline ends with 503.
 * Each leaves one gpt.generation.duration sample tagged with its outcome.
 */
@OverloadContext
@ExtendWith(IdleScheduler.class)
class OverloadApiTest {

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;
    @Autowired
    MeterRegistry registry;

    @Test
    void aRequestBeyondTheLimitsGets429ThenTheDeadlineEndsTheLongOne() throws Exception {
        Timer overloaded = registry.timer("gpt.generation.duration", "outcome", "overloaded");
        Timer deadline = registry.timer("gpt.generation.duration", "outcome", "deadline");
        long overloadedBefore = overloaded.count();
        long deadlineBefore = deadline.count();
        double deadlineSecondsBefore = deadline.totalTime(TimeUnit.SECONDS);
        HttpRequest longOne = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/generate"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Hello\", \"maxNewTokens\": 1000}")).build();
        CompletableFuture<HttpResponse<String>> first = HttpClient.newHttpClient()
                .sendAsync(longOne, HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(60)).until(() -> scheduler.running() == 1);
        var refused = new HttpTestClient(port).postJson("/generate", "{\"prompt\": \"Hi\", \"maxNewTokens\": 1}");
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.contentType()).startsWith("application/problem+json");
        assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();
        assertThat(overloaded.count()).as("the refused request's duration sample").isEqualTo(overloadedBefore + 1);

        HttpResponse<String> timedOut = first.get();
        assertThat(timedOut.statusCode()).isEqualTo(503);
        assertThat(timedOut.body()).contains("deadline");
        assertThat(deadline.count()).as("the timed-out request's duration sample").isEqualTo(deadlineBefore + 1);
        assertThat(deadline.totalTime(TimeUnit.SECONDS) - deadlineSecondsBefore).as("it ran to the 3 s deadline")
                .isGreaterThanOrEqualTo(3.0);
        assertThat(new HttpTestClient(port).postJson("/generate", "{\"prompt\": \"Hi\", \"maxNewTokens\": 1}").status())
                .isEqualTo(200);
    }
}
