package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Headless Chromium (Debian's {@code chromium}; .ci/run installs it) loads the Swagger UI and the
 * rendered page lists every operation. Skipped, and reported as skipped, where Chromium is absent.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SwaggerUiBrowserTest {

    static final File CHROMIUM = new File("/usr/bin/chromium");

    @LocalServerPort
    int port;

    @Test
    void swaggerUiRendersTheOperations() throws Exception {
        assumeTrue(CHROMIUM.canExecute(), "Chromium is not installed (apt-get install chromium)");
        Path profile = Files.createTempDirectory("chromium-profile");
        Process p = new ProcessBuilder(List.of(CHROMIUM.getPath(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=15000", "--dump-dom",
                "http://localhost:" + port + "/swagger-ui/index.html"))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        // each operation renders as an opblock with its method and path
        assertThat(dom).contains("opblock").contains("/generate").contains("/generate/stream")
                .contains("/model/params").contains("/model/presets").contains("/tokenize").contains("/detokenize")
                .contains("/v1/completions").contains("/v1/models");
    }
}
