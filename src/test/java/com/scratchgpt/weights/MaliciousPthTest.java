package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Pickle is code: each fixture of pth-malicious runs a command under torch.load (the fixture script checks
 * that it does, by the file it touches). Loaded here, each is refused naming the global it would have
 * called, and the file its payload touches is never created. The classes that read a .pth do not even
 * hold the means to run anything: no reflection, no class loading, no processes.
 */
class MaliciousPthTest {

    /** What every payload of pth-malicious touches (make_pth_fixtures.py's PAYLOAD_MARKER). */
    static final Path PAYLOAD_MARKER = Path.of("/tmp/scratchgpt-pth-payload-ran");

    @BeforeEach
    void noMarker() throws IOException {
        Files.deleteIfExists(PAYLOAD_MARKER);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "posix.system.pth, posix.system",
        "os.system.pth, os.system",
        "nt.system.pth, nt.system",
        "builtins.eval.pth, builtins.eval",
        "builtins.exec.pth, builtins.exec",
        "__builtin__.exec.pth, __builtin__.exec",
        "subprocess.Popen.pth, subprocess.Popen",
        "torch.serialization.load.pth, torch.serialization.load",
        "torch.load.pth, torch.load",
        "__main__.Payload.pth, __main__.Payload",
        "optimizer-posix.system.pth, posix.system"})
    void aPickleCallingAnyOtherGlobalIsRefusedByNameAndRunsNothing(String name, String global) throws Exception {
        Path file = PthImage.fixture("pth-malicious", name);

        assertThatThrownBy(() -> CheckpointLoader.load(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessage(file + ": global '" + global + "' refused: pickle is code, and a state_dict needs only "
                        + Unpickler.KNOWN_GLOBALS + "; nothing from the file was run (torch.save(model.state_dict()) saves a model "
                        + "without code)");
        // a background payload (subprocess.Popen) would have touched the file within 100 ms: it stays absent all along
        await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5)).until(() -> Files.notExists(PAYLOAD_MARKER));
        assertThat(PAYLOAD_MARKER).as("the payload's file").doesNotExist();
    }

    @ParameterizedTest
    @CsvSource({"builtins, getattr", "torch._utils, _rebuild_device_tensor_from_numpy", "collections, defaultdict",
        "torch.nn.modules.linear, Linear", "numpy.core.multiarray, _reconstruct", "copyreg, _reconstructor",
        "torch.FloatStorage, __new__", "torch, _utils", "torch._utils._rebuild_tensor_v2, ''", "'', ''",
        "torch, Float\u0000Storage", "Torch, FloatStorage", "collections, ordereddict"})
    void globalsNearTheKnownOnesAreRefusedToo(String module, String name) {
        byte[] pickle = PickleWriter.protocol(4).stackGlobal(module, name).stop().bytes();

        assertThatThrownBy(() -> Unpickler.load(Path.of("model.pth"), pickle))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith("model.pth: global '" + CheckpointException.printable(module + "." + name) + "' refused");
    }

    @Test
    void aGlobalNameWithANewlineStaysOnOneLine() {
        byte[] pickle = PickleWriter.protocol(4).stackGlobal("os\nERROR forged log line", "system").stop().bytes();

        assertThatThrownBy(() -> Unpickler.load(Path.of("model.pth"), pickle))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith("model.pth: global 'os\\u000aERROR forged log line.system' refused")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void theClassesReadingAPthHoldNoMeansToRunCode() throws IOException {
        List<String> forbidden = List.of("java/lang/reflect/", "forName", "loadClass", "java/lang/ProcessBuilder",
                "getRuntime", "javax/script", "findStatic", "findVirtual", "newInstance", "ObjectInputStream");
        for (Class<?> c : List.of(Unpickler.class, Unpickler.Tuple.class, Unpickler.Storage.class, Unpickler.StoredTensor.class,
                Unpickler.StorageType.class, Unpickler.Global.class, Unpickler.NONE.getClass(), PthFile.class,
                PthFile.Entry.class, PthArchive.class, PthArchive.Member.class)) {
            try (InputStream in = c.getResourceAsStream(c.getName().substring(c.getPackageName().length() + 1) + ".class")) {
                String constants = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(forbidden).as(c.getSimpleName()).noneMatch(constants::contains);
            }
        }
    }
}
