package com.scratchgpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * A bad gpt.* setting stops start-up with a non-zero exit, no stack trace, and one line naming the
 * property, the value as written and what is wrong (SettingsFailureAnalyzer): checked on the real
 * process for the two settings that used to fail late and for a weight format the JVM cannot compute, and in-process for every kind of failure the
 * analyzer reads (a constraint, a value that does not convert, a check that needs the loaded model).
 */
class InvalidSettingsStartupTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "gpt.model.preset=gpt2-smal      | Invalid setting gpt.model.preset=gpt2-smal: must be one of gpt2-small, gpt2-medium, gpt2-large, gpt2-xl",
            "gpt.generation.timeout=0s       | Invalid setting gpt.generation.timeout=0s: must be longer than 0",
            // this process runs without the Vector API module, as a trimmed Java runtime would
            "gpt.model.weight-format=bf16    | Invalid setting gpt.model.weight-format=bf16: needs the JDK's Vector API: start java with --add-modules jdk.incubator.vector"})
    void serviceExitsNonZeroWithOneLineNamingTheSetting(String setting, String expectedLine) throws Exception {
        FailedStartup startup = FailedStartup.run(dir, "--" + setting);

        assertThat(startup.exited()).as("exited within 90 s; output:%n%s", startup.output()).isTrue();
        assertThat(startup.exitCode()).as("exit code; output:%n%s", startup.output()).isNotZero();
        assertThat(startup.lines()).as("the failure analyzer's line; output:%n%s", startup.output())
                .filteredOn(line -> line.equals(expectedLine)).hasSize(1);
        assertThat(startup.lines()).as("nothing else mentions the setting; output:%n%s", startup.output())
                .filteredOn(line -> line.contains(setting.substring(0, setting.indexOf('=')))).hasSize(2); // the line, the action
        assertThat(startup.lines()).as("no stack trace").noneMatch(line -> line.startsWith("\tat "));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "gpt.generation.timeout=-5s             | Invalid setting gpt.generation.timeout=-5s: must be longer than 0",
            "gpt.generation.timeout=soon            | Invalid setting gpt.generation.timeout=soon: not a duration (such as 30s, 5m or PT5M)",
            "gpt.model.seed=1.5                     | Invalid setting gpt.model.seed=1.5: not a whole number",
            "gpt.model.qkv-bias=maybe               | Invalid setting gpt.model.qkv-bias=maybe: not true or false",
            "gpt.model.weight-format=q4_0           | Invalid setting gpt.model.weight-format=q4_0: must be one of f32, bf16, q8_0",
            "gpt.model.weight-format=BF16           | Invalid setting gpt.model.weight-format=BF16: must be one of f32, bf16, q8_0",
            "gpt.generation.max-new-tokens=0        | Invalid setting gpt.generation.max-new-tokens=0: must be greater than or equal to 1",
            "gpt.generation.max-concurrent=0        | Invalid setting gpt.generation.max-concurrent=0: must be greater than or equal to 1",
            "gpt.generation.max-queue=-1            | Invalid setting gpt.generation.max-queue=-1: must be greater than or equal to 0",
            "gpt.generation.max-batch=0             | Invalid setting gpt.generation.max-batch=0: must be greater than or equal to 1",
            "gpt.generation.prefill-chunk=0         | Invalid setting gpt.generation.prefill-chunk=0: must be greater than or equal to 1",
            "gpt.generation.max-request-share=0     | Invalid setting gpt.generation.max-request-share=0: must be greater than 0",
            "gpt.generation.max-request-share=1.5   | Invalid setting gpt.generation.max-request-share=1.5: must be less than or equal to 1",
            "gpt.generation.max-tokens-past-context=-1 | Invalid setting gpt.generation.max-tokens-past-context=-1: must be greater than or equal to 0",
            "gpt.http.body-timeout=0s               | Invalid setting gpt.http.body-timeout=0s: must be longer than 0",
            "gpt.inspect.max-tokens=0               | Invalid setting gpt.inspect.max-tokens=0: must be greater than or equal to 1"})
    void eachKindOfBadSettingIsOneLine(String setting, String expected) {
        assertThat(analysisOfStarting("--" + setting).getDescription()).isEqualTo(expected);
    }

    @Test
    void aKvCacheSmallerThanTheLoadedModelsContextIsNamedOnceTheModelIsKnown() {
        String checkpoint = Fixtures.of("tiny-hf").dir().toString(); // context length 24
        FailureAnalysis analysis = analysisOfStarting("--gpt.model.path=" + checkpoint, "--gpt.generation.max-batch-tokens=16");
        assertThat(analysis.getDescription()).isEqualTo(
                "Invalid setting gpt.generation.max-batch-tokens=16: must be at least the model's context length, 24");
        assertThat(analysis.getAction()).contains("GPT_GENERATION_MAXBATCHTOKENS");
    }

    @Test
    void settingsOutsideGptAreLeftToSpringBoot() {
        Throwable failure = catchThrowable(() -> start("--server.port=not-a-port"));
        assertThat(failure).isNotNull();
        assertThat(new SettingsFailureAnalyzer().analyze(failure)).isNull();
    }

    private static FailureAnalysis analysisOfStarting(String... args) {
        Throwable failure = catchThrowable(() -> start(args));
        assertThat(failure).as("start-up fails").isNotNull();
        FailureAnalysis analysis = new SettingsFailureAnalyzer().analyze(failure);
        assertThat(analysis).as("the analyzer reads %s", failure).isNotNull();
        return analysis;
    }

    private static void start(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "--server.port=0";
        System.arraycopy(args, 0, all, 1, args.length);
        SpringApplication.run(ScratchGptApplication.class, all).close();
    }
}
