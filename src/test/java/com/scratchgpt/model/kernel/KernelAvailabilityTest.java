package com.scratchgpt.model.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * A JVM started without the Vector API module (a plain {@code java -jar}) must not crash on the kernel
 * classes: asking for a weight matrix says which flag is missing instead of a NoClassDefFoundError.
 */
class KernelAvailabilityTest {

    @Test
    void theTestJvmHasTheVectorApi() {
        assertThat(WeightMatrix.kernelsAvailable()).isTrue();
        assertThat(WeightMatrix.kernelDescription()).contains("Species[float").contains("threads");
    }

    @Test
    void withoutTheModuleEveryFormatRefusesWithTheFlagToAdd() throws Exception {
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), WithoutVectorApi.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output.lines().toList()).as(output).containsExactly(
                "available: false",
                "f32: weight format f32 needs the JDK's Vector API: start java with --add-modules jdk.incubator.vector",
                "bf16: weight format bf16 needs the JDK's Vector API: start java with --add-modules jdk.incubator.vector",
                "q8_0: weight format q8_0 needs the JDK's Vector API: start java with --add-modules jdk.incubator.vector");
        assertThat(output).doesNotContain("NoClassDefFoundError").doesNotContain("incubator modules");
    }
}
