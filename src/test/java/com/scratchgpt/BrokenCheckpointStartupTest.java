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
 * no stack trace, and one line that names the file, the tensor and the problem (CheckpointFailureAnalyzer).
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
                .filteredOn(line -> line.startsWith("Cannot load the model weights: " + weights + ": tensor 'ln_f.bias': ")
                        && line.contains("out of range"))
                .hasSize(1);
        assertThat(lines).as("no stack trace").noneMatch(line -> line.startsWith("\tat "));
    }
}
