package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.generation.BatchScheduler;

import io.micrometer.core.instrument.MeterRegistry;

/** A streaming client that goes away stops its generation and frees its slot at once. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class StreamDisconnectTest {

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;
    @Autowired
    MeterRegistry registry;

    @Test
    void disconnectingStopsGenerationAndFreesTheKvCache() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/generate/stream"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1000}")).build();
        HttpResponse<InputStream> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        int tokenEvents = 0;
        for (String line; tokenEvents < 3 && (line = reader.readLine()) != null; ) {
            if (line.startsWith("event:token")) {
                tokenEvents++;
            }
        }
        assertThat(tokenEvents).isEqualTo(3);
        assertThat(scheduler.running()).isEqualTo(1);
        double generatedBefore = registry.counter("gpt.generation.tokens").count();
        long cancelledBefore = registry.timer("gpt.generation.duration", "outcome", "cancelled").count();
        response.body().close(); // the client goes away

        long end = System.nanoTime() + 10_000_000_000L;
        while ((scheduler.running() > 0 || scheduler.kvCacheUsed() > 0) && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertThat(scheduler.running()).isZero();
        assertThat(scheduler.kvCacheUsed()).isZero();
        // one duration sample for the request, as a cancelled one
        assertThat(registry.timer("gpt.generation.duration", "outcome", "cancelled").count()).isEqualTo(cancelledBefore + 1);
        // the request never completed, so no tokens were counted as a finished request's
        assertThat(registry.counter("gpt.generation.tokens").count()).isEqualTo(generatedBefore);
    }
}
