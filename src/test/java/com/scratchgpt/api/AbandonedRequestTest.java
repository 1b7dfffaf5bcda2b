package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.IdleScheduler;
import com.scratchgpt.generation.BatchScheduler;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * A client of a plain (not streamed) request that closes its connection stops its generations: they are
 * cancelled within a couple of seconds, as streams are, and their KV cache is freed, quietly. (Seen in the
 * kernel's TCP table, on Linux: Tomcat tells an asynchronous request nothing of it.)
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ExtendWith({OutputCaptureExtension.class, IdleScheduler.class})
class AbandonedRequestTest {

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;
    @Autowired
    MeterRegistry registry;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "/generate       | {\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1000}                        | 1",
        "/v1/completions | {\"prompt\": \"Hello, I am\", \"max_tokens\": 1000, \"n\": 2, \"temperature\": 0} | 2",
    })
    void closingTheConnectionCancelsTheGenerationsWithinSeconds(String path, String body, int sequences,
                                                                CapturedOutput output) throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "the kernel's TCP table, read to see a client close");
        int runningBefore = scheduler.running();
        int kvCacheBefore = scheduler.kvCacheUsed();
        long cancelledBefore = registry.timer("gpt.generation.duration", "outcome", "cancelled").count();
        int logFrom = output.getAll().length();
        try (Socket socket = new Socket("localhost", port)) {
            byte[] json = body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + json.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            await().atMost(Duration.ofSeconds(60)).until(() -> scheduler.running() == runningBefore + sequences
                    && scheduler.kvCacheUsed() > kvCacheBefore);
        } // the client goes away without reading its answer

        await().atMost(Duration.ofSeconds(3)).until(() -> scheduler.running() == runningBefore
                && scheduler.kvCacheUsed() == kvCacheBefore);
        await().atMost(Duration.ofSeconds(3)).until(() ->
                registry.timer("gpt.generation.duration", "outcome", "cancelled").count() == cancelledBefore + sequences);
        String log = output.getAll().substring(logFrom);
        assertThat(log).doesNotContain("\tat ").doesNotContain("ERROR").doesNotContain("WARN");
    }
}
