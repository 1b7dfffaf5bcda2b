package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pickle reader on its own: torch.save's pickles read as the values they hold, every opcode of
 * protocols 2 to 5 that such values need, each malformed or unsupported pickle refused with a
 * {@link CheckpointException} naming the byte, and the bounds: no input makes it recurse, allocate what
 * the file does not hold, or run without end.
 */
class UnpicklerTest {

    private static final Path FILE = Path.of("model.pth");

    /** A pickle written as text, one char a byte (Java escapes for bytes 0x80 to 0xFF). */
    private static byte[] latin1(String pickle) {
        return pickle.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Object load(String pickle) {
        return Unpickler.load(FILE, latin1(pickle));
    }

    @Test
    void torchsPickleOfAModelAndItsAdamWStateReadsAsItsValues() {
        PthImage image = PthImage.read(PthImage.fixture("pth-tiny", "model_and_optimizer.pth"));

        Map<Object, Object> root = dict(Unpickler.load(FILE, image.pickle()));

        assertThat(root.keySet()).containsExactly("model_state_dict", "optimizer_state_dict", "epoch", "loss");
        assertThat(root.get("epoch")).isEqualTo(1L);
        assertThat(root.get("loss")).isInstanceOf(Double.class);
        Map<?, ?> model = (Map<?, ?>) root.get("model_state_dict");
        Unpickler.StoredTensor tokEmb = (Unpickler.StoredTensor) model.get("tok_emb.weight");
        assertThat(tokEmb.storage().type()).isEqualTo(Unpickler.StorageType.FLOAT);
        assertThat(tokEmb.storage().numel()).isEqualTo(40L);
        assertThat(tokEmb.size().items()).containsExactly(10L, 4L);
        assertThat(tokEmb.stride().items()).containsExactly(4L, 1L);

        Map<?, ?> optimizer = (Map<?, ?>) root.get("optimizer_state_dict");
        Map<?, ?> group = (Map<?, ?>) ((List<?>) optimizer.get("param_groups")).get(0);
        assertThat(group.get("lr")).isEqualTo(4e-4);
        assertThat(group.get("betas")).isEqualTo(new Unpickler.Tuple(List.of(0.9, 0.999)));
        assertThat(group.get("foreach")).isSameAs(Unpickler.NONE);
        assertThat(group.get("amsgrad")).isEqualTo(false);
        assertThat(list(group.get("params"))).hasSize(model.size() - 1).startsWith(0L, 1L, 2L); // masks have no state
        Map<?, ?> first = (Map<?, ?>) ((Map<?, ?>) optimizer.get("state")).get(0L);
        Unpickler.StoredTensor step = (Unpickler.StoredTensor) first.get("step");
        assertThat(step.size().items()).isEmpty();
        assertThat(step.storage().numel()).isEqualTo(1L);
        assertThat(((Unpickler.StoredTensor) first.get("exp_avg")).size()).isEqualTo(tokEmb.size());
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object value) {
        return (Map<Object, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        return (List<Object>) value;
    }

    @Test
    void everyValueOpcodeReadsAsPythonWould() {
        Object value = load("\u0080\u0004\u0095\u0010\u0000\u0000\u0000\u0000\u0000\u0000\u0000"
                + "(" // MARK for LIST
                + "K\u00ffM\u0001\u0002J\u00fe\u00ff\u00ff\u00ff" // 255, 513, -2
                + "\u008a\u0000\u008a\u0001\u00ff\u008a\u0009\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0001" // 0, -1, 2^64
                + "\u008b\u0002\u0000\u0000\u0000\u0000\u0080" // LONG4: -32768, two's complement
                + "G\u0040\u0009\u0021\u00fb\u0054\u0044\u002d\u0018" // pi
                + "X\u0003\u0000\u0000\u0000abc\u008c\u0002\u00c3\u00a9\u008d\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0000z"
                + "C\u0002hiB\u0001\u0000\u0000\u0000!\u008e\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"
                + "\u0096\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0000x"
                + "\u0088\u0089N)K\u0001\u0085K\u0001K\u0002\u0086K\u0001K\u0002K\u0003\u0087"
                + "(K\u0007K\u0008t" // TUPLE from MARK
                + "\u0094h\u0000r\u0000\u0001\u0000\u0000j\u0000\u0001\u0000\u0000" // MEMOIZE, BINGET, LONG_BINPUT, LONG_BINGET
                + "2" // DUP
                + "N0" // POP
                + "(NN1" // POP_MARK
                + "(K\u0001K\u0002d" // DICT {1: 2}
                + "]K\u0009a" // APPEND
                + "](K\u0001K\u0002e" // APPENDS
                + "l.");

        List<Object> list = list(value);
        Unpickler.Tuple seven8 = new Unpickler.Tuple(List.of(7L, 8L));
        assertThat(list).containsExactly(255L, 513L, -2L, 0L, -1L, BigInteger.ONE.shiftLeft(64), -32768L, Math.PI,
                "abc", "\u00e9", "z", list.get(11), list.get(12), list.get(13), list.get(14), true, false, Unpickler.NONE,
                new Unpickler.Tuple(List.of()), new Unpickler.Tuple(List.of(1L)), new Unpickler.Tuple(List.of(1L, 2L)),
                new Unpickler.Tuple(List.of(1L, 2L, 3L)), seven8, seven8, seven8, seven8, Map.of(1L, 2L), List.of(9L),
                List.of(1L, 2L));
        assertThat((byte[]) list.get(11)).containsExactly('h', 'i');
        assertThat((byte[]) list.get(12)).containsExactly('!');
        assertThat((byte[]) list.get(13)).isEmpty();
        assertThat((byte[]) list.get(14)).containsExactly('x');
    }

    @Test
    void anOrderedDictIsADictAndItsMetadataIsDropped() {
        Object value = load("\u0080\u0002ccollections\nOrderedDict\n)R(X\u0001\u0000\u0000\u0000aK\u0001u"
                + "}X\u0009\u0000\u0000\u0000_metadata}sb.");
        assertThat(value).isEqualTo(Map.of("a", 1L));
    }

    @Test
    void parametersAreTheirTensors() {
        byte[] tensor = PickleWriter.protocol(2).global("torch._utils", "_rebuild_parameter")
                .mark().tensor("HalfStorage", "0", 4, 0, new long[] {4}, new long[] {1}).bool(true).orderedDict().tuple()
                .reduce().stop().bytes();
        Unpickler.StoredTensor t = (Unpickler.StoredTensor) Unpickler.load(FILE, tensor);
        assertThat(t.storage()).isEqualTo(new Unpickler.Storage(Unpickler.StorageType.HALF, "0", 4));
    }

    static Stream<Arguments> malformedPickles() {
        return Stream.of(
                Arguments.of("\u0080\u0004ccollections\nOrderedDict\n)\u0081.",
                        "opcode 0x81 at byte 28, NEWOBJ (builds an object of a class)"),
                Arguments.of("(icollections\nOrderedDict\n.",
                        "opcode 0x69 at byte 1, INST (builds an object of a class)"),
                Arguments.of("(ccollections\nOrderedDict\no.",
                        "opcode 0x6f at byte 26, OBJ (builds an object of a class)"),
                Arguments.of("\u0082\u0001.",
                        "opcode 0x82 at byte 0, EXT (a global from the copyreg registry)"),
                Arguments.of("P0\n.",
                        "opcode 0x50 at byte 0, PERSID (a text persistent id)"),
                Arguments.of("\u008f.",
                        "opcode 0x8f at byte 0, a set"),
                Arguments.of("I01\n.",
                        "opcode 0x49 at byte 0, a protocol 0 opcode"),
                Arguments.of("\u0080\u0006N.",
                        "pickle protocol 6 (2 to 5 are read)"),
                Arguments.of("\u00ff.",
                        "invalid opcode 0xff at byte 0"),
                Arguments.of("N",
                        "ends at byte 1 without a STOP opcode"),
                Arguments.of(".",
                        "stack underflow at byte 0"),
                Arguments.of("R.",
                        "stack underflow at byte 0"),
                Arguments.of("(R.",
                        "stack underflow at byte 1"),
                Arguments.of("0.",
                        "no MARK before the opcode at byte 0"),
                Arguments.of("h\u0005.",
                        "memo entry 5 read at byte 0 was never stored"),
                Arguments.of("}]Ns.",
                        "a list of 0 as a dict key at byte 3"),
                Arguments.of("}(K\u0001\u0085\u0085Nu.",
                        "a tuple of 1 as a dict key at byte 7"),
                Arguments.of("}(Nu.",
                        "odd number of items for the dict at byte 3"),
                Arguments.of("X\u0001\u0000\u0000\u0000\u00ff.",
                        "string at byte 0 is not UTF-8"),
                Arguments.of("cos",
                        "GLOBAL at byte 0 is not terminated by a newline"),
                Arguments.of("})R.",
                        "REDUCE at byte 2 calls a dict, which is no function"),
                Arguments.of("ctorch\nFloatStorage\n)R.",
                        "REDUCE at byte 21 calls torch.FloatStorage, which only a persistent id may name"),
                Arguments.of("ccollections\nOrderedDict\nN\u0085R.",
                        "collections.OrderedDict at byte 27 called with arguments"),
                Arguments.of("ccollections\nOrderedDict\nNR.",
                        "collections.OrderedDict at byte 26 called with None, not a tuple"),
                Arguments.of("ctorch._utils\n_rebuild_tensor_v2\n)R.",
                        "torch._utils._rebuild_tensor_v2 at byte 34 called with 0 arguments"),
                Arguments.of("ctorch._utils\n_rebuild_tensor_v2\n(NNNNNNtR.",
                        "called with (None, None, None, None, None, None), not (storage, storage_offset"),
                Arguments.of("ctorch._utils\n_rebuild_parameter\n(NNNtR.",
                        "torch._utils._rebuild_parameter at byte 38 called with (None, None, None), not (data"),
                Arguments.of("NQ.",
                        "persistent id at byte 1 is None, not ('storage', storage type, key, location, element count)"),
                Arguments.of(
                        "(X\u0007\u0000\u0000\u0000storagectorch\nFloatStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpuK\u0004tQ(X\u0007\u0000\u0000\u0000storagectorch\nHalfStorage\nX\u0001\u0000\u0000\u00000X\u0003\u0000\u0000\u0000cpuK\u0004tQ.",
                        "storage '0' declared as torch.FloatStorage of 4 elements and as torch.HalfStorage of 4"),
                Arguments.of("]}b.",
                        "BUILD at byte 2 sets a dict on a list of 0"),
                Arguments.of("}Na.",
                        "APPEND at byte 2 to a dict, not a list"),
                Arguments.of("]NNs.",
                        "SETITEM at byte 3 on a list of 0, not a dict"),
                Arguments.of("\u008b\u00ff\u00ff\u00ff\u00ff.",
                        "LONG4 at byte 0 of negative length -1"),
                Arguments.of("\u0095\u00ff\u0000\u0000\u0000\u0000\u0000\u0000\u0000N.",
                        "frame of 255 bytes at byte 0 runs past the end"),
                Arguments.of("NN\u0093.",
                        "STACK_GLOBAL at byte 2 names a global with None and None, not two strings"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("malformedPickles")
    void malformedAndUnsupportedPicklesAreRefusedNamingTheByte(String pickle, String problem) {
        assertThatThrownBy(() -> load(pickle))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith("model.pth: data.pkl: ")
                .hasMessageContaining(problem);
    }

    @Test
    void lengthsBeyondThePickleAreRefusedWithoutAllocatingThem() {
        String[] huge = {"\u008d\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0040", "X\u00ff\u00ff\u00ff\u007f",
            "\u008e\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff\u00ff", "\u008a\u00ff", "\u008b\u0000\u0000\u0000\u0040"};
        for (String pickle : huge) { // once to load the classes involved, once measured
            assertThatThrownBy(() -> load(pickle)).isInstanceOf(CheckpointException.class).hasMessageContaining("bytes; ");
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        int refused = 0;
        for (String pickle : huge) {
            try {
                load(pickle);
            } catch (CheckpointException e) {
                refused++;
            }
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        assertThat(refused).isEqualTo(huge.length);
        assertThat(allocated).as("bytes allocated refusing lengths of up to 2^64").isLessThan(256 * 1024);
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aPickleOfMoreThanTwoMillionOpcodesIsRefused() {
        String pickle = "N0".repeat(Unpickler.MAX_OPCODES / 2 + 1) + "N.";
        assertThatThrownBy(() -> load(pickle)).isInstanceOf(CheckpointException.class)
                .hasMessage("model.pth: data.pkl: more than 2000000 opcodes: refused as no state_dict");
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void nestingNineHundredThousandDeepNeitherRecursesNorFails() {
        int depth = 900_000;
        Object lists = load("]".repeat(depth) + "a".repeat(depth - 1) + ".");
        Object marks = load("(".repeat(depth) + "N.");

        assertThat(Unpickler.describe(lists)).isEqualTo("a list of 1");
        assertThat(marks).isSameAs(Unpickler.NONE);
    }

    @Test
    void aListHoldingItselfIsAValueLikeAnyOther() {
        List<?> list = (List<?>) load("]q\u0000h\u0000a.");
        assertThat(list.get(0)).isSameAs(list);
        assertThat(Unpickler.describe(list)).isEqualTo("a list of 1");
    }
}
