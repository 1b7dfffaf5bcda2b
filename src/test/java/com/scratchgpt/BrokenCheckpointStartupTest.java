package com.scratchgpt;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

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
        FailedStartup startup = FailedStartup.run(dir, "--gpt.model.path=" + weights);
        List<String> lines = startup.lines();

        assertThat(startup.exited()).as("exited within 90 s; output:%n%s", startup.output()).isTrue();
        assertThat(startup.exitCode()).as("exit code; output:%n%s", startup.output()).isNotZero();
        // Spring's own WARN "Exception encountered during context initialization" repeats the message at the
        // end of a chain of bean names; the line meant for the operator is the failure analyzer's
        assertThat(lines).as("the failure analyzer's line, naming the file, the tensor and the problem")
                .filteredOn(line -> line.startsWith("Cannot load the model weights: " + weights + ": tensor 'ln_f.bias': ")
                        && line.contains("out of range"))
                .hasSize(1);
        assertThat(lines).as("no stack trace").noneMatch(line -> line.startsWith("\tat "));
    }
}
