package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The official OpenAI client library (npm package {@code openai}, src/test/node) against the real
 * server: plain and streamed completions, several prompts, n, seeds, logprobs, a scored prompt, errors.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OpenAiClientTest {

    static final File NODE_DIR = new File("src/test/node");

    @LocalServerPort
    int port;

    @Test
    void officialOpenAiClientWorksUnchanged() throws Exception {
        assertThat(check(port).output()).contains("8 passed, 0 failed");
    }

    record Run(int exitCode, String output) {
    }

    /**
     * Runs openai-check.mjs (installing the client first if needed) against the server on {@code port}; it must pass.
     * Skipped, and reported as skipped, where Node.js is absent.
     */
    static Run check(int port, String... only) throws IOException, InterruptedException {
        assumeTrue(nodeInstalled(), "Node.js is not installed (apt-get install nodejs npm; the client needs Node 20+)");
        if (!new File(NODE_DIR, "node_modules/openai").isDirectory()) {
            Run install = run(List.of("npm", "ci", "--no-audit", "--no-fund"), 300);
            assertThat(install.exitCode()).as("npm ci in src/test/node:\n%s", install.output()).isZero();
        }
        List<String> command = new ArrayList<>(List.of("node", "openai-check.mjs", "http://localhost:" + port));
        command.addAll(List.of(only));
        Run check = run(command, 300);
        assertThat(check.exitCode()).as("node openai-check.mjs:\n%s", check.output()).isZero();
        return check;
    }

    private static boolean nodeInstalled() throws InterruptedException {
        try {
            return run(List.of("node", "--version"), 30).exitCode() == 0;
        } catch (IOException e) {
            return false; // no node on the PATH
        }
    }

    private static Run run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(NODE_DIR).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Run(-1, "timed out\n" + new String(out, StandardCharsets.UTF_8));
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
