package com.scratchgpt.weights;

import static com.scratchgpt.weights.BrokenCheckpointTest.assertLoadFails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every way a .pth can be broken ends in a {@link CheckpointException} naming the file, the tensor (where
 * there is one) and the problem, as for safetensors ({@link BrokenCheckpointTest}). Broken files are copies
 * of the vocabulary-10 fixture (pth-tiny) with one thing wrong, or pickles written by hand.
 */
class BrokenPthTest {

    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void config() throws IOException {
        Files.copy(PthImage.fixture("pth-tiny", "config.json"), dir.resolve("config.json"));
        file = dir.resolve("model.pth");
    }

    private static PthImage tiny() {
        return PthImage.read(PthImage.fixture("pth-tiny", "model.pth"));
    }

    private void assertFails(String tensor, String... problem) {
        assertLoadFails(file, file, tensor, problem);
    }

    // --- not a torch.save archive

    @Test
    void missingFileIsNamed() {
        assertFails(null, "file not found");
    }

    @Test
    void emptyFileIsNotAZipArchive() throws IOException {
        Files.write(file, new byte[0]);
        assertFails(null, "not a zip archive", "0 bytes");
    }

    @Test
    void garbageIsNotAZipArchive() throws IOException {
        Files.writeString(file, "garbage! not a checkpoint at all");
        assertFails(null, "not a zip archive", "no local file header at byte 0");
    }

    @Test
    void aSafetensorsFileNamedPthIsNotAZipArchive() throws IOException {
        Files.copy(PthImage.fixture("tiny-hf", "model.safetensors"), file);
        assertFails(null, "not a zip archive");
    }

    @Test
    void theLegacyFormatOfPyTorchBefore16IsNamed() throws IOException {
        Files.write(file, PickleWriter.protocol(2).emptyDict().stop().bytes());
        assertFails(null, "a pickle, not a zip archive: the torch.save format of PyTorch before 1.6");
    }

    @Test
    void aFileCutAnywhereIsRefused() throws IOException {
        byte[] whole = Files.readAllBytes(PthImage.fixture("pth-tiny", "model_and_optimizer.pth"));
        int cuts = 0;
        // every 53rd byte, and each of the last 300, where the central directory and its end record lie
        for (int size = 0; size < whole.length; size += size < whole.length - 300 ? 53 : 1) {
            Files.write(file, Arrays.copyOf(whole, size));
            assertThatThrownBy(() -> CheckpointLoader.load(file)).as("cut at %d", size)
                    .isInstanceOf(CheckpointException.class).hasMessageStartingWith(file + ": ");
            cuts++;
        }
        assertThat(cuts).isGreaterThan(700);
    }

    @Test
    void bytesAfterTheEndRecordAreRefused() throws IOException {
        byte[] whole = Files.readAllBytes(PthImage.fixture("pth-tiny", "model.pth"));
        Files.write(file, Arrays.copyOf(whole, whole.length + 7));
        assertFails(null, "no end of central directory record");
    }

    @Test
    void compressedEntriesAreRefusedByName() throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (var m : tiny().members.entrySet()) {
                zip.putNextEntry(new ZipEntry(m.getKey()));
                zip.write(m.getValue());
            }
        }
        assertFails(null, "entry 'model/data.pkl' is compressed (zip method 8)", "torch.save stores every entry uncompressed");
    }

    @Test
    void encryptedEntriesAreRefusedByName() throws IOException {
        tiny().write(file);
        byte[] bytes = Files.readAllBytes(file);
        int central = indexOf(bytes, "PK\u0001\u0002".getBytes(StandardCharsets.ISO_8859_1));
        bytes[central + 8] |= 1; // the first entry's flags: encrypted
        Files.write(file, bytes);
        assertFails(null, "entry 'model/data.pkl' is encrypted");
    }

    @Test
    void anArchiveWithoutDataPklIsNotACheckpoint() {
        PthImage image = tiny();
        image.members.put("model/data.pickle", image.members.remove("model/data.pkl"));
        image.write(file);
        assertFails(null, "no <archive>/data.pkl in the zip archive");
    }

    @Test
    void twoPicklesAreAmbiguous() {
        PthImage image = tiny();
        image.members.put("other/data.pkl", image.pickle());
        image.write(file);
        assertFails(null, "two pickles, 'model/data.pkl' and 'other/data.pkl'");
    }

    @Test
    void aBigEndianCheckpointIsRefused() {
        PthImage image = tiny();
        image.members.put("model/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
        image.write(file);
        assertFails(null, "byte order 'big'", "only little-endian checkpoints load");
    }

    // --- data corrupted

    @Test
    void aCorruptPickleFailsItsCrc() {
        PthImage image = tiny();
        image.crcs.put("model/data.pkl", 12345);
        image.write(file);
        assertFails(null, "'model/data.pkl' fails its CRC-32 check: the file is corrupt");
    }

    @Test
    void aCorruptStorageFailsItsCrcNamingTheTensor() {
        PthImage image = tiny();
        String storage = storageOf("trf_blocks.0.ff.layers.2.bias");
        image.members.get("model/data/" + storage)[5] ^= 1;
        image.crcs.put("model/data/" + storage, PthImage.crc(tiny().members.get("model/data/" + storage)));
        image.write(file);
        assertFails("trf_blocks.0.ff.layers.2.bias", "its storage 'model/data/" + storage + "' fails its CRC-32 check");
    }

    @Test
    void aMissingStorageIsNamedWithItsTensor() {
        PthImage image = tiny();
        String storage = storageOf("final_norm.shift");
        image.members.remove("model/data/" + storage);
        image.write(file);
        assertFails("final_norm.shift", "its storage 'data/" + storage + "' is missing from the archive");
    }

    @Test
    void aStorageShorterThanItsElementCountIsNamedWithItsTensor() {
        PthImage image = tiny();
        String storage = storageOf("final_norm.shift");
        image.members.put("model/data/" + storage, new byte[12]);
        image.write(file);
        assertFails("final_norm.shift", "holds 12 bytes, but 4 elements of torch.FloatStorage need 16");
    }

    private static String storageOf(String tensor) {
        try (PthFile pth = PthFile.open(PthImage.fixture("pth-tiny", "model.pth"))) {
            return pth.entries().get(tensor).storage();
        }
    }

    // --- tensors that are not what a weight can be

    @Test
    void aTransposedWeightIsRefusedAsNonContiguous() throws IOException {
        Files.copy(PthImage.fixture("pth-tiny", "model-transposed.pth"), file);
        assertFails("trf_blocks.0.att.W_key.weight", "strides [1, 4] for size [4, 4] are not contiguous",
                "save it after .contiguous()");
    }

    @Test
    void aWholeModelSavedWithTorchSaveIsRefusedNamingItsClass() throws IOException {
        Files.copy(PthImage.fixture("pth-tiny", "whole-model.pth"), file);
        assertFails(null, "global 'gpt_reference.GPTModel' refused: pickle is code",
                "(torch.save(model.state_dict()) saves a model without code)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"DoubleStorage", "LongStorage", "IntStorage", "ByteStorage"})
    void storagesThatAreNoFloatsAreRefusedNamingTheTensor(String type) {
        PthImage image = tiny();
        byte[] pickle = new String(image.pickle(), StandardCharsets.ISO_8859_1)
                .replace("torch\nFloatStorage\n", "torch\n" + type + "\n").getBytes(StandardCharsets.ISO_8859_1);
        image.withPickle(pickle).write(file);
        assertFails("tok_emb.weight", "unsupported storage type torch." + type, "float32, float16 and bfloat16 load");
    }

    /** One tensor, tok_emb.weight, in an archive whose storage "0" holds 16 float32 zeros. */
    private void writeOneTensor(long numel, long offset, long[] size, long[] stride) {
        PthImage image = new PthImage();
        image.members.put("model/data.pkl", PickleWriter.protocol(2).orderedDict().mark().str("tok_emb.weight")
                .tensor("FloatStorage", "0", numel, offset, size, stride).setitems().stop().bytes());
        image.members.put("model/data/0", new byte[64]);
        image.write(file);
    }

    @Test
    void aTensorRunningPastItsStorageIsRefused() {
        writeOneTensor(16, 10, new long[] {2, 4}, new long[] {4, 1});
        assertFails("tok_emb.weight", "8 elements from offset 10 run past its storage '0' of 16");
    }

    @Test
    void aStorageOffsetBeyondTheStorageIsRefused() {
        writeOneTensor(16, Long.MAX_VALUE, new long[] {1}, new long[] {1});
        assertFails("tok_emb.weight", "run past its storage");
    }

    @Test
    void aNegativeStorageOffsetIsRefused() {
        writeOneTensor(16, -4, new long[] {4}, new long[] {1});
        assertFails("tok_emb.weight", "storage offset is not a non-negative integer");
    }

    @Test
    void aNegativeSizeIsRefused() {
        writeOneTensor(16, 0, new long[] {-4, 4}, new long[] {4, 1});
        assertFails("tok_emb.weight", "invalid size [-4, 4]");
    }

    @Test
    void aSizeWhoseElementCountOverflowsIsRefused() {
        writeOneTensor(16, 0, new long[] {1L << 40, 1L << 40}, new long[] {1L << 40, 1});
        assertFails("tok_emb.weight", "is too large");
    }

    @Test
    void stridesOfAnotherRankAreRefused() {
        writeOneTensor(16, 0, new long[] {4, 4}, new long[] {1});
        assertFails("tok_emb.weight", "strides [1] for size [4, 4] are not contiguous");
    }

    @Test
    void aStorageElementCountThatDisagreesWithItsBytesIsRefused() {
        writeOneTensor(20, 0, new long[] {4, 4}, new long[] {4, 1});
        assertFails("tok_emb.weight", "its storage 'model/data/0' holds 64 bytes, but 20 elements of torch.FloatStorage need 80");
    }

    @Test
    void sizeOneDimensionsMayHaveAnyStride() {
        writeOneTensor(16, 0, new long[] {1, 16, 1}, new long[] {999, 1, 7});
        try (PthFile pth = PthFile.open(file)) {
            assertThat(pth.entries().get("tok_emb.weight").shape()).containsExactly(1, 16, 1);
        }
    }

    // --- pickles that hold no state_dict

    private void writePickle(PickleWriter pickle) {
        PthImage image = new PthImage();
        image.members.put("model/data.pkl", pickle.stop().bytes());
        image.write(file);
    }

    @Test
    void aPickleOfSomethingElseThanADictIsRefused() {
        writePickle(PickleWriter.protocol(2).integer(7));
        assertFails(null, "the pickle holds an int, not a state_dict");
    }

    @Test
    void aDictOfThingsThatAreNoTensorsIsRefusedNamingTheEntry() {
        writePickle(PickleWriter.protocol(2).emptyDict().mark().str("model").emptyDict().setitems());
        assertFails("model", "a dict, not a tensor: a .pth loads as torch.save(model.state_dict()) or as a dict with "
                + "'model_state_dict'");
    }

    @Test
    void aModelStateDictThatIsNoDictIsRefused() {
        writePickle(PickleWriter.protocol(2).emptyDict().mark().str("model_state_dict").integer(3).setitems());
        assertFails(null, "'model_state_dict' is an int, not a state_dict");
    }

    @Test
    void aStateDictKeyThatIsNoStringIsRefused() {
        writePickle(PickleWriter.protocol(2).emptyDict().mark().integer(0).emptyDict().setitems());
        assertFails(null, "a state_dict key that is an int, not a str");
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }
}
