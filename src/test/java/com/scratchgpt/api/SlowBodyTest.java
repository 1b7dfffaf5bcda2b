package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.AttackContext;
import com.scratchgpt.HttpTestClient;

/**
 * Clients that send their body a byte at a time hold no worker thread: with 50 of them against 8 Tomcat
 * workers, health and /model/params still answer at once, and each slow client gets a 408 problem once
 * the body deadline (2 s here) has passed. A body read ahead is still held to the size limit.
 */
@AttackContext
class SlowBodyTest {

    static final int SLOW_CLIENTS = 50;
    static final long BODY_DEADLINE_MILLIS = 2_000;

    @LocalServerPort
    int port;

    @Test
    void slowBodiesHoldNoWorkerThreadAndGet408AfterTheDeadline() throws Exception {
        List<Socket> slow = new ArrayList<>();
        List<Long> sent = new ArrayList<>();
        try {
            for (int i = 0; i < SLOW_CLIENTS; i++) {
                Socket socket = new Socket("localhost", port);
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                String path = i % 2 == 0 ? "/generate" : "/v1/completions";
                out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 40\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                slow.add(socket);
                sent.add(System.nanoTime());
            }

            HttpClient client = HttpClient.newHttpClient();
            for (String path : List.of("/actuator/health", "/model/params")) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(path).isEqualTo(200);
            }

            for (int i = 0; i < slow.size(); i++) {
                String response = readResponse(slow.get(i).getInputStream());
                long waitedMillis = (System.nanoTime() - sent.get(i)) / 1_000_000;
                assertThat(response).as("slow client %d", i).startsWith("HTTP/1.1 408 ");
                assertThat(response.toLowerCase()).contains("content-type: application/problem+json");
                String problem = response.substring(response.indexOf("\r\n\r\n") + 4);
                assertThat(HttpTestClient.parse(problem).get("status").asInt()).isEqualTo(408);
                assertThat(HttpTestClient.parse(problem).get("detail").asString()).contains("body");
                assertThat(HttpTestClient.parse(problem).has("error")).isEqualTo(i % 2 == 1);
                assertThat(waitedMillis).as("answered after the deadline").isGreaterThanOrEqualTo(BODY_DEADLINE_MILLIS);
            }
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
        assertThat(new HttpTestClient(port).postJson("/generate", "{\"prompt\": \"Hi\", \"maxNewTokens\": 1}").status())
                .isEqualTo(200);
    }

    @Test
    void aChunkedBodyReadAheadIsStillHeldToTheSizeLimit() throws Exception {
        byte[] big = ("{\"text\": \"" + "a".repeat(2 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/tokenize"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isIn(400, 413);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(HttpTestClient.parse(r.body()).get("detail").asString()).contains(String.valueOf(1024 * 1024));
    }

    /** The whole response: the server closes the connection after a 408. */
    private static String readResponse(InputStream in) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        in.transferTo(bytes);
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
