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
        FailedStartup startup = FailedStartup.run(dir, "--gpt.model.path=" + weights);
        List<String> lines = startup.lines();

        assertThat(startup.exited()).as("exited within 90 s; output:%n%s", startup.output()).isTrue();
        assertThat(startup.exitCode()).as("exit code; output:%n%s", startup.output()).isNotZero();
        // Spring's own WARN "Exception encountered during context initialization" repeats the message at the
        // end of a chain of bean names; the line meant for the operator is the failure analyzer's
        assertThat(lines).as("the failure analyzer's line, naming the file, the tensor and the problem")
                .filteredOn(line -> line.startsWith(start) && line.contains(problem))
                .hasSize(1);
        assertThat(lines).as("no stack trace").noneMatch(line -> line.startsWith("\tat "));
    }
}
