package com.scratchgpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real service, started as its own process on a broken checkpoint, stops with a non-zero exit,
 * no stack trace, and one line that names the file, the tensor (or the global a .pth would call) and the
 * problem (CheckpointFailureAnalyzer).
 */
class BrokenCheckpointStartupTest {

    @TempDir
    Path dir;

    @Test
    void serviceExitsNonZeroWithOneLineNamingFileAndTensorWhenTheCheckpointIsTruncated() throws Exception {
        Path fixture = Fixtures.of("tiny-hf").dir();
        Files.copy(fixture.resolve("config.json"), dir.resolve("config.json"));
        Path weights = Files.copy(fixture.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 10); // cuts into the last tensor's data, ln_f.bias
        }

        assertStartupFailsWithOneLine(weights, "Cannot load the model weights: " + weights + ": tensor 'ln_f.bias': ",
                "out of range");
    }

    @Test
    void serviceExitsNonZeroWithOneLineNamingFileAndGlobalWhenThePthWouldRunCode() throws Exception {
        Path fixture = Fixtures.of("tiny-hf").dir().resolveSibling("pth-malicious");
        Files.copy(fixture.resolve("config.json"), dir.resolve("config.json"));
        Path weights = Files.copy(fixture.resolve("os.system.pth"), dir.resolve("model.pth"));
        Path marker = Path.of("/tmp/scratchgpt-pth-payload-ran"); // what the payload would touch
        Files.deleteIfExists(marker);

        assertStartupFailsWithOneLine(weights, "Cannot load the model weights: " + weights + ": global 'os.system' refused: ",
                "nothing from the file was run");
        assertThat(marker).as("the payload's file").doesNotExist();
    }

    /** Starts the service on weights; it must exit non-zero with exactly one line starting so and containing problem. */
    private void assertStartupFailsWithOneLine(Path weights, String start, String problem) throws Exception {
        Path output = dir.resolve("output.txt");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), ScratchGptApplication.class.getName(),
                "--gpt.model.path=" + weights, "--server.port=0")
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        boolean exited = process.waitFor(90, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        List<String> lines = Files.readAllLines(output);

        assertThat(exited).as("exited within 90 s; output:%n%s", String.join("\n", lines)).isTrue();
        assertThat(process.exitValue()).as("exit code; output:%n%s", String.join("\n", lines)).isNotZero();
        // Spring's own WARN "Exception encountered during context initialization" repeats the message at the
        // end of a chain of bean names; the line meant for the operator is the failure analyzer's
        assertThat(lines).as("the failure analyzer's line, naming the file, the tensor and the problem")
                .filteredOn(line -> line.startsWith(start) && line.contains(problem))
                .hasSize(1);
        assertThat(lines).as("no stack trace").noneMatch(line -> line.startsWith("\tat "));
    }
}
