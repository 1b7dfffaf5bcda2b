package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.GPTPreset;

import tools.jackson.databind.json.JsonMapper;

/**
 * What loads from a .pth beyond the reference fixtures (CheckpointReferenceTest): the seeds' mask buffers,
 * F16 storages, tensors sharing storages at offsets, Hugging Face names, the optimizer state skipped unread,
 * the archive as other PyTorch versions write it (another folder name, byteorder, zip64, beyond 4 GB), and
 * config.json left out for the GPT-2 sizes. Where two files hold the same model, their loads must agree
 * to the bit.
 */
class PthCheckpointTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private static Path tiny(String file) {
        return PthImage.fixture("pth-tiny", file);
    }

    private static GPTModel load(Path file) {
        return CheckpointLoader.load(file).model();
    }

    /** Same parameter names, and each parameter the same floats. */
    static void assertSameParameters(GPTModel actual, GPTModel expected) {
        assertThat(actual.parameters().keySet()).isEqualTo(expected.parameters().keySet());
        expected.parameters().forEach((name, tensor) ->
                assertThat(actual.parameters().get(name).buffer()).as(name).isEqualTo(tensor.buffer()));
    }

    /** A copy of the fixture's config.json and the image written as name, in the temporary folder. */
    private Path writeBeside(String folder, PthImage image, String name) {
        try {
            Files.copy(PthImage.fixture(folder, "config.json"), dir.resolve("config.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return image.write(dir.resolve(name));
    }

    // --- the seeds' attention-mask buffers

    @ParameterizedTest
    @CsvSource({"tiny-book-pth, 8, F32", "tiny-book-pth-ctx-len, 10, BOOL", "tiny-book-pth-bf16, 12, BF16"})
    void theSeedsMaskBuffersArePresentCheckedAndAccepted(String folder, int context, Dtype maskDtype) {
        Path file = PthImage.fixture(folder, "model.pth");
        try (PthFile pth = PthFile.open(file)) {
            for (int i = 0; i < 2; i++) {
                PthFile.Entry mask = pth.entries().get("trf_blocks." + i + ".att.mask");
                assertThat(mask.shape()).containsExactly(context, context);
                assertThat(mask.dtype()).isEqualTo(maskDtype);
            }
        }
        CheckpointLoader.Loaded loaded = CheckpointLoader.load(file);
        assertThat(loaded.model().config().contextLength()).isEqualTo(context);
        assertThat(loaded.dtype()).as("mask buffers are not weights").isEqualTo(maskDtype == Dtype.BF16 ? "BF16" : "F32");
    }

    @Test
    void aFloatMaskThatIsNotCausalIsRefusedNamingTheTensorAndTheElement() {
        PthImage image = PthImage.read(PthImage.fixture("tiny-book-pth", "model.pth"));
        String member = storageOf(PthImage.fixture("tiny-book-pth", "model.pth"), "trf_blocks.1.att.mask", image);
        ByteBuffer mask = ByteBuffer.wrap(image.members.get(member)).order(ByteOrder.LITTLE_ENDIAN);
        mask.putFloat((2 * 8 + 5) * 4, 0f); // [2, 5] lies above the diagonal: the mask hides it from query 2
        Path file = writeBeside("tiny-book-pth", image, "model.pth");

        assertThatThrownBy(() -> CheckpointLoader.load(file)).isInstanceOf(CheckpointException.class)
                .hasMessage(file + ": tensor 'trf_blocks.1.att.mask': not the causal mask: element [2, 5] is 0.0 where "
                        + "torch.triu(torch.ones(8, 8), diagonal=1) has 1");
    }

    @Test
    void aBoolMaskThatLetsATokenSeeItselfMaskedIsRefused() {
        PthImage image = PthImage.read(PthImage.fixture("tiny-book-pth-ctx-len", "model.pth"));
        String member = storageOf(PthImage.fixture("tiny-book-pth-ctx-len", "model.pth"), "trf_blocks.0.att.mask", image);
        image.members.get(member)[3 * 10 + 3] = 1; // the diagonal masked: a token could not attend to itself
        Path file = writeBeside("tiny-book-pth-ctx-len", image, "model.pth");

        assertThatThrownBy(() -> CheckpointLoader.load(file)).isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(file + ": tensor 'trf_blocks.0.att.mask': not the causal mask: element [3, 3] is 1.0");
    }

    @Test
    void aMaskTooLargeToCheckIsRefusedBeforeAnythingIsAllocated() throws IOException {
        // context 20000: a 400 MB bool mask, zeros in a sparse file, that would be 1.6 GB of floats
        GPTConfig cfg = new GPTConfig(2, 20_000, 2, 1, 1, 0.0, false);
        PickleWriter pickle = PickleWriter.protocol(2).orderedDict().mark();
        PthImage image = new PthImage();
        int key = 0;
        for (List<CheckpointLayout.Source> sources : CheckpointLayout.BOOK.sources(cfg, "", false).values()) {
            for (CheckpointLayout.Source s : sources) {
                long numel = Arrays.stream(s.shape()).reduce(1, (a, b) -> a * b);
                pickle.str(s.name()).tensor("FloatStorage", Integer.toString(key), numel, 0, s.shape(), strides(s.shape()));
                image.members.put("model/data/" + key++, new byte[Math.toIntExact(numel * 4)]);
            }
        }
        pickle.str("trf_blocks.0.att.mask").tensor("BoolStorage", "mask", 400_000_000L, 0, new long[] {20_000, 20_000},
                new long[] {20_000, 1});
        image.withZeros("model/data/mask", 400_000_000L);
        image.crcs.put("model/data/mask", 0); // never read
        image.members.put("model/data.pkl", pickle.setitems().stop().bytes());
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(Map.of("vocab_size", 2,
                "context_length", 20_000, "emb_dim", 2, "n_heads", 1, "n_layers", 1)));
        Path file = image.write(dir.resolve("model.pth"));

        assertThatThrownBy(() -> CheckpointLoader.load(file)).isInstanceOf(CheckpointException.class)
                .hasMessage(file + ": tensor 'trf_blocks.0.att.mask': a causal mask of 400000000 elements is more than "
                        + "the 268435456 this loader checks");
    }

    private static long[] strides(long[] shape) {
        return shape.length == 1 ? new long[] {1} : new long[] {shape[1], 1};
    }

    /** The archive member holding a tensor's storage. */
    private static String storageOf(Path file, String tensor, PthImage image) {
        try (PthFile pth = PthFile.open(file)) {
            return image.prefix() + "/data/" + pth.entries().get(tensor).storage();
        }
    }

    // --- storages

    @Test
    void f16StoragesWidenToExactlyTheFloatsTorchWidensThemTo() {
        CheckpointLoader.Loaded f16 = CheckpointLoader.load(tiny("model-f16.pth"));
        CheckpointLoader.Loaded f32 = CheckpointLoader.load(tiny("model-f16-as-f32.pth"));

        assertThat(f16.dtype()).isEqualTo("F16");
        assertThat(f32.dtype()).isEqualTo("F32");
        assertSameParameters(f16.model(), f32.model());
    }

    @Test
    void tensorsSharingAStorageAtOffsetsLoadAsTheValuesTheyView() {
        try (PthFile shared = PthFile.open(tiny("model-shared-storage.pth"))) {
            Map<String, PthFile.Entry> e = shared.entries();
            assertThat(e.get("out_head.weight").storage()).isEqualTo(e.get("tok_emb.weight").storage());
            assertThat(e.get("trf_blocks.0.att.W_key.weight").storage()).isEqualTo(e.get("trf_blocks.0.att.W_query.weight").storage());
            assertThat(e.get("trf_blocks.0.att.W_value.weight").storageOffset()).isEqualTo(32);
        }
        assertSameParameters(load(tiny("model-shared-storage.pth")), load(tiny("model-shared-storage-unshared.pth")));
    }

    @Test
    void huggingFaceNamesInAPthLoadAsTheSameModel() {
        CheckpointLoader.Loaded hf = CheckpointLoader.load(tiny("model-hf.pth"));

        assertThat(hf.layout()).isEqualTo(CheckpointLayout.HUGGING_FACE);
        assertSameParameters(hf.model(), load(tiny("model.pth")));
    }

    @Test
    void optimizerStateIsSkippedWithoutItsStoragesBeingRead() {
        Path file = tiny("model_and_optimizer.pth");
        PthImage image = PthImage.read(file);
        Set<String> modelStorages;
        try (PthFile pth = PthFile.open(file)) {
            modelStorages = pth.entries().values().stream().map(e -> image.prefix() + "/data/" + e.storage())
                    .collect(Collectors.toSet());
        }
        int before = image.members.size();
        image.members.keySet().removeIf(name -> name.contains("/data/") && !modelStorages.contains(name));
        assertThat(before - image.members.size()).as("optimizer storages removed").isGreaterThan(10);

        assertSameParameters(load(writeBeside("pth-tiny", image, "model_and_optimizer.pth")), load(tiny("model.pth")));
    }

    // --- the archive as other writers lay it out

    @Test
    void anArchiveFolderNamedArchiveLoads() {
        Path file = writeBeside("pth-tiny", PthImage.read(tiny("model.pth")).renamed("archive"), "model.pth");
        assertSameParameters(load(file), load(tiny("model.pth")));
    }

    @Test
    void theByteorderAndSerializationIdOfNewerPyTorchLoad() {
        PthImage image = PthImage.read(tiny("model.pth"));
        image.members.put(image.prefix() + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        image.members.put(image.prefix() + "/.data/serialization_id", "1234567890".getBytes(StandardCharsets.US_ASCII));
        assertSameParameters(load(writeBeside("pth-tiny", image, "model.pth")), load(tiny("model.pth")));
    }

    @Test
    void zip64RecordsLoad() {
        PthImage image = PthImage.read(tiny("model_and_optimizer.pth"));
        image.zip64 = true;
        assertSameParameters(load(writeBeside("pth-tiny", image, "model.pth")), load(tiny("model.pth")));
    }

    @Test
    void storagesBeyond4GbLoad() throws IOException {
        PthImage source = PthImage.read(tiny("model_and_optimizer.pth"));
        PthImage image = new PthImage();
        String pickle = source.prefix() + "/data.pkl";
        image.members.put(pickle, source.members.get(pickle));
        // 4.3 GB of zeros (sparse: no disk space) that no tensor uses; never read, so its CRC-32 is left out
        image.withZeros(source.prefix() + "/padding", 4_300_000_000L);
        image.crcs.put(source.prefix() + "/padding", 0);
        source.members.forEach(image.members::putIfAbsent);
        Path file = writeBeside("pth-tiny", image, "model.pth");

        assertThat(Files.size(file)).isGreaterThan(4_300_000_000L);
        assertSameParameters(load(file), load(tiny("model.pth")));
    }

    // --- config.json

    @Test
    void ctxLenAndContextLengthThatDisagreeAreRefused() throws IOException {
        Path file = writeBeside("tiny-book-pth-ctx-len", PthImage.read(PthImage.fixture("tiny-book-pth-ctx-len", "model.pth")),
                "model.pth");
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json"))
                .replace("\"ctx_len\": 10", "\"ctx_len\": 10, \"context_length\": 12"));

        assertThatThrownBy(() -> CheckpointLoader.load(file)).isInstanceOf(CheckpointException.class)
                .hasMessage(dir.resolve("config.json") + ": fields 'context_length' and 'ctx_len' disagree");
    }

    @Test
    void withoutConfigJsonATinyModelAsksForIt() {
        Path file = PthImage.read(PthImage.fixture("tiny-book-pth", "model.pth")).write(dir.resolve("model.pth"));

        assertThatThrownBy(() -> CheckpointLoader.load(file)).isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(dir.resolve("config.json") + ": file not found: config.json must sit beside the weights")
                .hasMessageEndingWith("which these do not (tok_emb.weight [50257, 4], pos_emb.weight [8, 4])");
    }

    @Test
    void withoutConfigJsonTheShapesOfGpt2SmallLoadAsGpt2Small() {
        Path file = gpt2Shapes("book").write(dir.resolve("model.pth"));

        CheckpointLoader.Loaded loaded = CheckpointLoader.load(file);

        assertThat(loaded.model().config()).isEqualTo(GPTConfig.GPT_CONFIG_124M);
        assertThat(loaded.model().parameterCount()).isEqualTo(163_009_536L);
    }

    @ParameterizedTest
    @CsvSource({"book, false", "book-qkv-bias, true", "hf, true"})
    void withoutConfigJsonQkvBiasFollowsTheFirstBlocksQueryBias(String variant, boolean qkvBias) {
        try (PthFile pth = PthFile.open(gpt2Shapes(variant).write(dir.resolve("model.pth")))) {
            GPTConfig cfg = CheckpointConfig.read(dir.resolve("config.json"),
                    CheckpointLayout.detect(pth.entries().keySet()), pth.entries());
            assertThat(cfg).isEqualTo(GPTPreset.GPT2_SMALL.config(qkvBias));
        }
    }

    @Test
    void withoutConfigJsonGpt2SmallWidthWithThirteenBlocksAsksForIt() {
        try (PthFile pth = PthFile.open(gpt2Shapes("book-13-blocks").write(dir.resolve("model.pth")))) {
            assertThatThrownBy(() -> CheckpointConfig.read(dir.resolve("config.json"),
                    CheckpointLayout.detect(pth.entries().keySet()), pth.entries()))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(dir.resolve("config.json") + ": file not found: config.json must sit beside");
        }
    }

    /** A GPT-2 small state_dict as torch.save lays it out, its storages zeros in a sparse file. */
    private static PthImage gpt2Shapes(String variant) {
        Path folder = PthImage.fixture("pth-gpt2-shapes", variant + ".pkl").getParent();
        try {
            PthImage image = new PthImage();
            image.members.put("model/data.pkl", Files.readAllBytes(folder.resolve(variant + ".pkl")));
            JSON.readTree(Files.readAllBytes(folder.resolve(variant + ".json"))).properties()
                    .forEach(storage -> image.withZeros("model/data/" + storage.getKey(), storage.getValue().asLong()));
            image.members.put("model/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
