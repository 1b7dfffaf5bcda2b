package com.scratchgpt;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real service started as its own process with these arguments, in a case where it must refuse to
 * start: whether it exited within 90 s, its exit code, and every line it printed.
 */
record FailedStartup(boolean exited, int exitCode, List<String> lines) {

    static FailedStartup run(Path dir, String... args) throws Exception {
        List<String> arguments = new ArrayList<>(List.of("--server.port=0"));
        arguments.addAll(List.of(args));
        Path output = Files.createTempFile(dir, "startup", ".txt");
        Process process = new ProcessBuilder(ServiceProcess.command(List.of("-Xmx512m"), arguments.toArray(String[]::new)))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        boolean exited = process.waitFor(90, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly().waitFor();
        }
        return new FailedStartup(exited, process.exitValue(), Files.readAllLines(output));
    }

    /** The output, for assertion messages. */
    String output() {
        return String.join("\n", lines);
    }
}
