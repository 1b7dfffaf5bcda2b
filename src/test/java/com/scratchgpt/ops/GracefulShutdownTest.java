package com.scratchgpt.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.ServiceProcess;

/** The real service as its own process: on SIGTERM a request in flight completes, then the process exits. */
class GracefulShutdownTest {

    /** Enough for a second or more of generation (at most about 45 tokens/s here), long after the gauge shows it running. */
    private static final int TOKENS = 48;

    @Test
    void aRequestInFlightSurvivesSigterm() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        File log = File.createTempFile("scratchgpt-shutdown", ".log");
        Process app = new ProcessBuilder(ServiceProcess.command(List.of(), "--server.port=" + port,
                "--logging.level.org.springframework.boot=INFO"))
                .redirectErrorStream(true).redirectOutput(log).start();
        try {
            HttpTestClient http = new HttpTestClient(port);
            await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> http.get("/actuator/health").status() == 200);

            HttpRequest longOne = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/generate"))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(120))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Hello, I am\", \"maxNewTokens\": " + TOKENS + "}")).build();
            CompletableFuture<HttpResponse<String>> inFlight = HttpClient.newHttpClient()
                    .sendAsync(longOne, HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> http.get(
                    "/actuator/metrics/gpt.generation.requests.running").json().get("measurements").get(0).get("value").asDouble() == 1.0);

            app.destroy(); // SIGTERM

            HttpResponse<String> response = inFlight.get(120, TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(HttpTestClient.parse(response.body()).get("usage").get("generatedTokens").asInt()).isEqualTo(TOKENS);
            assertThat(app.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(log.toPath())).contains("Commencing graceful shutdown");
        } finally {
            app.destroyForcibly();
            Files.deleteIfExists(log.toPath());
        }
    }
}
