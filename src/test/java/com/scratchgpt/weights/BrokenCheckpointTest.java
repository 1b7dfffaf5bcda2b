package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Every way a checkpoint can be broken ends in a {@link CheckpointException} whose message names the
 * file, the tensor (where there is one) and the problem. Broken files are copies of the tiny-hf fixture
 * (F32, Hugging Face names, emb 16, 2 layers, context 24) with one thing wrong.
 */
class BrokenCheckpointTest {

    @TempDir
    Path dir;

    /** The load fails with a CheckpointException naming the file, the tensor (or none) and the problem. */
    static void assertLoadFails(Path load, Path file, String tensor, String... problem) {
        assertThatThrownBy(() -> CheckpointLoader.load(load))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(file.toString() + ":")
                .satisfies(e -> {
                    if (tensor == null) {
                        assertThat(e.getMessage()).doesNotContain("tensor '");
                    } else {
                        assertThat(e.getMessage()).contains("tensor '" + tensor + "'");
                    }
                    assertThat(e.getMessage()).contains(problem);
                });
    }

    private Path tinyHf() {
        return SafetensorsImage.copyFixture("tiny-hf", dir);
    }

    private SafetensorsImage tinyHfImage() {
        return SafetensorsImage.read(tinyHf());
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // --- files that are not there

    @Test
    void folderWithoutModelSafetensorsNamesTheMissingFile() throws IOException {
        Files.delete(tinyHf());
        assertLoadFails(dir, dir.resolve("model.safetensors"), null, "file not found");
    }

    @Test
    void safetensorsPathThatDoesNotExistIsNamed() {
        tinyHf();
        Path absent = dir.resolve("gpt2.safetensors");
        assertLoadFails(absent, absent, null, "file not found");
    }

    @Test
    void pathWhoseFolderDoesNotExistNamesThePathGivenRatherThanConfigJson() {
        Path absent = dir.resolve("no-such-folder").resolve("model.safetensors");
        assertLoadFails(absent, absent, null, "file not found");
    }

    @Test
    void missingConfigJsonIsNamed() throws IOException {
        tinyHf();
        Files.delete(dir.resolve("config.json"));
        assertLoadFails(dir, dir.resolve("config.json"), null, "file not found", "beside the weights");
    }

    // --- the header length

    @Test
    void fileShorterThanTheHeaderLengthFieldIsTruncated() throws IOException {
        Path file = tinyHf();
        truncate(file, 5);
        assertLoadFails(dir, file, null, "truncated", "5 bytes");
    }

    @Test
    void emptyFileIsTruncated() throws IOException {
        Path file = tinyHf();
        truncate(file, 0);
        assertLoadFails(dir, file, null, "truncated", "0 bytes");
    }

    @Test
    void fileCutInsideTheHeaderHasAHeaderLengthBeyondTheFile() throws IOException {
        Path file = tinyHf();
        truncate(file, 200);
        assertLoadFails(dir, file, null, "header length", "does not fit in the file of 200 bytes");
    }

    @Test
    void headerLengthBeyondTheFileIsRefusedWithoutAllocatingIt() {
        long ninetyMb = 90L * 1024 * 1024; // under the 100 MB header limit: only the file size can refuse it
        Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), ninetyMb, ascii("{}"), new byte[0]);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        long before = threads.getCurrentThreadAllocatedBytes();
        assertThatThrownBy(() -> SafetensorsFile.open(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(file + ":")
                .hasMessageContaining("header length " + ninetyMb + " does not fit in the file of 10 bytes");
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(allocated).as("bytes allocated while refusing a 90 MB header").isLessThan(1024 * 1024);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, Long.MAX_VALUE, -1, Long.MIN_VALUE, 1L << 32})
    void impossibleHeaderLengthsAreRefused(long headerLength) {
        tinyHf();
        Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), headerLength, ascii("{}      "), new byte[64]);
        assertLoadFails(dir, file, null, "header length " + Long.toUnsignedString(headerLength), "does not fit");
    }

    @Test
    void garbageInsteadOfAHeaderLengthIsRefused() throws IOException {
        Path file = tinyHf();
        Files.write(file, ascii("garbage! not a safetensors file at all"));
        assertLoadFails(dir, file, null, "header length", "does not fit");
    }

    // --- the header JSON

    @Test
    void invalidHeaderJsonIsRefused() {
        tinyHf();
        byte[] header = ascii("{\"wte.weight\": {\"dtype\": \"F32\", \"shape\": [50257, 16");
        Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), header.length, header, new byte[16]);
        assertLoadFails(dir, file, null, "invalid header JSON");
    }

    @Test
    void headerThatIsNotUtf8IsRefused() {
        tinyHf();
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), header.length, header, new byte[0]);
        assertLoadFails(dir, file, null, "invalid header JSON");
    }

    @Test
    void tensorListedTwiceInTheHeaderIsRefusedAsAmbiguous() {
        SafetensorsImage image = tinyHfImage();
        String header = SafetensorsImage.JSON.writeValueAsString(image.header);
        String twice = "{\"wpe.weight\":{\"dtype\":\"F32\",\"shape\":[24,16],\"data_offsets\":[0,1536]}," + header.substring(1);
        byte[] bytes = ascii(twice);
        Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), bytes.length, bytes, image.data);
        assertLoadFails(dir, file, null, "invalid header JSON", "Duplicate", "wpe.weight");
    }

    @Test
    void textAfterTheHeaderObjectIsRefused() {
        SafetensorsImage image = tinyHfImage();
        byte[] bytes = ascii(SafetensorsImage.JSON.writeValueAsString(image.header) + " {}");
        Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), bytes.length, bytes, image.data);
        assertLoadFails(dir, file, null, "invalid header JSON");
    }

    @Test
    void headerPaddedWithSpacesAsTheReferenceWriterDoesLoads() {
        SafetensorsImage image = tinyHfImage();
        byte[] bytes = ascii(SafetensorsImage.JSON.writeValueAsString(image.header) + "       ");
        SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), bytes.length, bytes, image.data);
        assertThat(CheckpointLoader.load(dir).model().tiedOutputHead()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1, 2]", "null", "42", "\"wte.weight\""})
    void headerThatIsNotAnObjectIsRefused(String json) {
        tinyHf();
        byte[] header = ascii(json);
        Path file = SafetensorsImage.writeRaw(dir.resolve("model.safetensors"), header.length, header, new byte[0]);
        assertLoadFails(dir, file, null, "not a JSON object");
    }

    @Test
    void metadataThatIsNotAnObjectIsRefused() {
        SafetensorsImage image = tinyHfImage();
        image.header.put("__metadata__", "pt");
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), null, "__metadata__ is not an object");
    }

    @Test
    void metadataWithNonStringValuesStillLoads() {
        SafetensorsImage image = tinyHfImage();
        image.header.putObject("__metadata__").put("format", "pt").put("step", 12).putArray("list").add(1);
        image.write(dir.resolve("model.safetensors"));
        assertThat(CheckpointLoader.load(dir).model().tiedOutputHead()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"I64", "F64", "I8", "BOOL", "f32", ""})
    void unsupportedDtypeNamesTheTensorAndTheDtype(String dtype) {
        SafetensorsImage image = tinyHfImage();
        image.tensor("h.1.attn.c_proj.weight").put("dtype", dtype);
        Path file = image.write(dir.resolve("model.safetensors"));
        assertLoadFails(dir, file, "h.1.attn.c_proj.weight", "unsupported dtype " + dtype, "F32, F16 and BF16");
    }

    @Test
    void entryWithoutDtypeNamesTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("wpe.weight").remove("dtype");
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "wpe.weight", "missing dtype");
    }

    @Test
    void entryWithoutShapeNamesTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("wpe.weight").put("shape", "24x16");
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "wpe.weight", "missing shape");
    }

    @Test
    void negativeShapeNamesTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("wpe.weight").putArray("shape").add(-24).add(-16);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "wpe.weight", "invalid shape [-24,-16]");
    }

    @Test
    void shapeWhoseElementCountOverflowsNamesTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("wpe.weight").putArray("shape").add(1L << 40).add(1L << 40);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "wpe.weight", "too large");
    }

    @Test
    void entryThatIsNotAnObjectNamesTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.header.put("wpe.weight", 7);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "wpe.weight", "not an object");
    }

    // --- data_offsets

    @Test
    void truncatedDataNamesTheTensorThatRunsPastTheEnd() throws IOException {
        Path file = tinyHf();
        String last = lastTensor(SafetensorsImage.read(file));
        truncate(file, Files.size(file) - 10);
        assertLoadFails(dir, file, last, "out of range");
    }

    @Test
    void dataOffsetsBeyondTheDataSectionNameTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("ln_f.bias").putArray("data_offsets").add(image.data.length).add(image.data.length + 64);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "ln_f.bias", "out of range",
                "the data section has " + image.data.length + " bytes");
    }

    @Test
    void dataOffsetsEndingBeforeTheyBeginNameTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("ln_f.bias").putArray("data_offsets").add(640).add(576);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "ln_f.bias", "[640, 576] out of range");
    }

    @Test
    void negativeDataOffsetsNameTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("ln_f.bias").putArray("data_offsets").add(-64).add(0);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "ln_f.bias", "out of range");
    }

    @Test
    void malformedDataOffsetsNameTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("ln_f.bias").putArray("data_offsets").add(0).add(64).add(128);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "ln_f.bias", "invalid data_offsets [0,64,128]");
    }

    @Test
    void overlappingDataOffsetsNameBothTensors() {
        SafetensorsImage image = tinyHfImage();
        JsonNode weight = image.tensor("h.0.ln_1.weight").get("data_offsets");
        image.tensor("h.0.ln_1.bias").set("data_offsets", weight.deepCopy());
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "h.0.ln_1.bias", "overlap",
                "'h.0.ln_1.weight'");
    }

    @Test
    void partlyOverlappingDataOffsetsAreRefused() {
        SafetensorsImage image = tinyHfImage();
        ObjectNode bias = image.tensor("h.0.ln_1.bias");
        long begin = bias.get("data_offsets").get(0).asLong();
        bias.putArray("data_offsets").add(begin - 32).add(begin + 32); // half in ln_1.weight, same byte count
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "h.0.ln_1.bias", "overlap",
                "'h.0.ln_1.weight'");
    }

    @Test
    void byteCountThatDisagreesWithTheShapeNamesTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("h.0.ln_1.weight").putArray("shape").add(17);
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "h.0.ln_1.weight",
                "hold 64 bytes, but shape [17] of F32 needs 68");
    }

    @Test
    void byteCountOfTheWrongDtypeNamesTheTensor() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("h.0.ln_1.weight").put("dtype", "F16");
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "h.0.ln_1.weight",
                "hold 64 bytes, but shape [16] of F16 needs 32");
    }

    @Test
    void tensorOfMoreThan2GbIsRefusedWhenReadRatherThanMapped() throws IOException {
        long bytes = 600_000_000L * Float.BYTES; // 2.4 GB, in a sparse file that takes no disk space
        ObjectNode header = SafetensorsImage.JSON.createObjectNode();
        ObjectNode entry = header.putObject("huge.weight").put("dtype", "F32");
        entry.putArray("shape").add(600_000_000L);
        entry.putArray("data_offsets").add(0).add(bytes);
        Path file = new SafetensorsImage(header, new byte[0]).write(dir.resolve("model.safetensors"));
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() + bytes);
        }

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThatThrownBy(() -> st.readInto("huge.weight", FloatBuffer.allocate(1), 0, false))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageStartingWith(file + ": tensor 'huge.weight': ")
                    .hasMessageContaining("2400000000 bytes");
        }
    }

    // --- tensors against config.json

    @Test
    void missingTensorIsNamed() {
        SafetensorsImage image = tinyHfImage();
        image.header.remove("h.1.mlp.c_fc.bias");
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "h.1.mlp.c_fc.bias", "missing tensor");
    }

    @Test
    void missingPrefixedTensorIsNamedWithItsPrefix() {
        SafetensorsImage image = SafetensorsImage.read(SafetensorsImage.copyFixture("tiny-hf-f16", dir));
        image.header.remove("transformer.h.0.attn.c_attn.weight");
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "transformer.h.0.attn.c_attn.weight",
                "missing tensor");
    }

    @Test
    void tensorShapeThatDisagreesWithConfigJsonIsNamed() {
        SafetensorsImage image = tinyHfImage();
        image.tensor("h.1.attn.c_proj.weight").putArray("shape").add(8).add(32); // same bytes, wrong shape
        assertLoadFails(dir, image.write(dir.resolve("model.safetensors")), "h.1.attn.c_proj.weight",
                "shape [8, 32] disagrees with config.json, which implies [16, 16]");
    }

    @Test
    void configJsonThatDisagreesWithTheTensorsNamesTheFirstTensorAffected() throws IOException {
        Path file = tinyHf();
        editConfig(c -> c.put("n_positions", 32));
        assertLoadFails(dir, file, "wpe.weight", "shape [24, 16] disagrees with config.json, which implies [32, 16]");
    }

    @Test
    @Timeout(10)
    void configJsonWithFarMoreLayersThanTheFileNamesTheFirstMissingTensorAtOnce() throws IOException {
        Path file = tinyHf();
        editConfig(c -> c.put("n_layer", Integer.MAX_VALUE));
        assertLoadFails(dir, file, "h.2.attn.c_attn.weight", "missing tensor");
    }

    @Test
    void qkvBiasInTheWeightsButNotInConfigJsonIsNamed() throws IOException {
        Path file = SafetensorsImage.copyFixture("tiny-book-qkv-f16", dir);
        editConfig(c -> c.put("qkv_bias", false));
        assertLoadFails(dir, file, "trf_blocks.0.att.W_key.bias", "qkv_bias false");
    }

    @Test
    void tensorNamesOfNeitherLayoutAreRefused() {
        SafetensorsImage image = tinyHfImage();
        ObjectNode renamed = SafetensorsImage.JSON.createObjectNode();
        image.header.properties().forEach(e -> renamed.set(
                e.getKey().equals("__metadata__") ? e.getKey() : "model." + e.getKey(), e.getValue()));
        Path file = new SafetensorsImage(renamed, image.data).write(dir.resolve("model.safetensors"));
        assertLoadFails(dir, file, null, "neither the seeds' tensor names", "nor Hugging Face GPT-2's");
    }

    // --- config.json itself

    @Test
    void invalidConfigJsonIsNamed() throws IOException {
        tinyHf();
        Files.writeString(dir.resolve("config.json"), "{\"n_embd\": 16,");
        assertLoadFails(dir, dir.resolve("config.json"), null, "invalid JSON");
    }

    @Test
    void configJsonWithoutAFieldNamesTheField() throws IOException {
        tinyHf();
        editConfig(c -> c.remove("n_layer"));
        assertLoadFails(dir, dir.resolve("config.json"), null, "'n_layer' is missing or not an integer");
    }

    @Test
    void configJsonWithFieldsOfTheWrongTypeIsNamed() throws IOException {
        tinyHf();
        editConfig(c -> c.put("n_head", "four"));
        assertLoadFails(dir, dir.resolve("config.json"), null, "'n_head' is missing or not an integer");
    }

    @Test
    void configJsonWithAnEpsilonThatIsNotANumberIsNamed() throws IOException {
        tinyHf();
        editConfig(c -> c.put("layer_norm_epsilon", "small"));
        assertLoadFails(dir, dir.resolve("config.json"), null, "'layer_norm_epsilon' is not a number");
    }

    @Test
    void bookConfigJsonWithAQkvBiasThatIsNotABooleanIsNamed() throws IOException {
        SafetensorsImage.copyFixture("tiny-book", dir);
        editConfig(c -> c.put("qkv_bias", "yes"));
        assertLoadFails(dir, dir.resolve("config.json"), null, "'qkv_bias' is not true or false");
    }

    @Test
    void bookConfigJsonWithADropRateThatIsNotANumberIsNamed() throws IOException {
        SafetensorsImage.copyFixture("tiny-book", dir);
        editConfig(c -> c.putArray("drop_rate"));
        assertLoadFails(dir, dir.resolve("config.json"), null, "'drop_rate' is not a number");
    }

    @Test
    void configJsonWithHeadsThatDoNotDivideTheWidthIsNamed() throws IOException {
        tinyHf();
        editConfig(c -> c.put("n_head", 3));
        assertLoadFails(dir, dir.resolve("config.json"), null, "invalid configuration", "divisible");
    }

    private void editConfig(java.util.function.Consumer<ObjectNode> edit) throws IOException {
        Path config = dir.resolve("config.json");
        ObjectNode c = (ObjectNode) SafetensorsImage.JSON.readTree(Files.readAllBytes(config));
        edit.accept(c);
        Files.write(config, SafetensorsImage.JSON.writeValueAsBytes(c));
    }

    private static String lastTensor(SafetensorsImage image) {
        return image.header.properties().stream()
                .filter(e -> !e.getKey().equals("__metadata__"))
                .max(Comparator.comparingLong((Map.Entry<String, JsonNode> e) -> e.getValue().get("data_offsets").get(1).asLong()))
                .orElseThrow().getKey();
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }
}
