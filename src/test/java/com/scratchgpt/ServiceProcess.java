package com.scratchgpt;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line that starts the real service as a process of its own, on the tests' class path. */
public final class ServiceProcess {

    private ServiceProcess() {
    }

    /**
     * java with these JVM options, then the service with these arguments. The C1 compiler alone: such a process
     * lives seconds to a minute, and C2 compiling beside it doubled its CPU time (a refused start: 10 s against
     * 4 s user, 19 s against 7 s wall on two loaded cores). The products still run on OpenBLAS, without the
     * Vector API module.
     */
    public static List<String> command(List<String> jvmOptions, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ScratchGptApplication.class.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
