package com.scratchgpt.weights;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads the pickle of a torch.save checkpoint, knowing only what a state_dict is made of. A pickle is a
 * program: its GLOBAL opcodes import anything by name and REDUCE calls it, which is how a .pth file runs
 * code under Python's pickle. Here nothing from the file is ever run or looked up: a global is compared
 * with a fixed list of names ({@link Global}), the known ones become Java markers that REDUCE turns into
 * plain values (dicts, tensor descriptors), and any other global stops the load naming it. Storages are
 * persistent ids, kept as descriptors ({@link Storage}); their bytes are not read here.
 *
 * <p>Values: None is {@link #NONE}; bool, int (Long, or BigInteger beyond 64 bits), float (Double) and str
 * are Java's; bytes are byte[]; tuples are {@link Tuple}; lists ArrayList; dicts and OrderedDicts
 * LinkedHashMap. Work and memory are bounded by {@link #MAX_OPCODES}; nothing recurses on the file's nesting.
 */
final class Unpickler {

    /** GPT-2 XL's state_dict with its AdamW state takes about 65 thousand opcodes. */
    static final int MAX_OPCODES = 2_000_000;

    /** Python's None. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    /** The tuples of the pickle, told apart from its lists. */
    record Tuple(List<Object> items) {

        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }
    }

    /** {@code ('storage', storage_type, key, location, numel)}: a storage of the archive, by key; location is ignored. */
    record Storage(StorageType type, String key, long numel) {
    }

    /** {@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)}, as arguments only. */
    record StoredTensor(Storage storage, Object offset, Tuple size, Tuple stride) {
    }

    /** torch's typed storages, with their element sizes; the ones a weight may use also carry their dtype. */
    enum StorageType {
        FLOAT("FloatStorage", 4, Dtype.F32), HALF("HalfStorage", 2, Dtype.F16), BFLOAT16("BFloat16Storage", 2, Dtype.BF16),
        BOOL("BoolStorage", 1, Dtype.BOOL), DOUBLE("DoubleStorage", 8, null), LONG("LongStorage", 8, null),
        INT("IntStorage", 4, null), SHORT("ShortStorage", 2, null), CHAR("CharStorage", 1, null),
        BYTE("ByteStorage", 1, null), COMPLEX_FLOAT("ComplexFloatStorage", 8, null),
        COMPLEX_DOUBLE("ComplexDoubleStorage", 16, null);

        final String global;
        final int bytes;
        final Dtype dtype;

        StorageType(String name, int bytes, Dtype dtype) {
            this.global = "torch." + name;
            this.bytes = bytes;
            this.dtype = dtype;
        }
    }

    /** The globals a state_dict pickle names, besides the storage types. */
    enum Global {
        ORDERED_DICT("collections.OrderedDict"),
        REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2"),
        REBUILD_PARAMETER("torch._utils._rebuild_parameter"),
        REBUILD_PARAMETER_WITH_STATE("torch._utils._rebuild_parameter_with_state");

        final String global;

        Global(String global) {
            this.global = global;
        }
    }

    private static final Map<String, Object> KNOWN = new HashMap<>();

    static {
        for (Global g : Global.values()) {
            KNOWN.put(g.global, g);
        }
        for (StorageType t : StorageType.values()) {
            KNOWN.put(t.global, t);
        }
    }

    /** What a refusal lists as the known globals. */
    static final String KNOWN_GLOBALS = Arrays.stream(Global.values()).map(g -> g.global)
            .collect(Collectors.joining(", ")) + " and torch's storage types (torch.FloatStorage, ...)";

    private final Path file;
    private final byte[] data;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    /** Stack heights at each MARK; as in CPython, nothing below the last mark may be popped before POP_MARK. */
    private int[] marks = new int[16];
    private int markCount;
    private final Map<Long, Object> memo = new HashMap<>();
    private final Map<String, Storage> storages = new HashMap<>();

    private Unpickler(Path file, byte[] data) {
        this.file = file;
        this.data = data;
    }

    /** The object data.pkl holds; every problem is a {@link CheckpointException} naming the file. */
    static Object load(Path file, byte[] data) {
        return new Unpickler(file, data).run();
    }

    private Object run() {
        for (int executed = 0; executed < MAX_OPCODES; executed++) {
            if (pos >= data.length) {
                throw fail("ends at byte " + pos + " without a STOP opcode (truncated?)");
            }
            int at = pos;
            int op = data[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int protocol = u8();
                    if (protocol > 5) {
                        throw fail("pickle protocol " + protocol + " (2 to 5 are read)");
                    }
                }
                case 0x95 -> { // FRAME: a length hint for buffered readers; the data is all here
                    long length = u64();
                    if (length < 0 || length > data.length - pos) {
                        throw fail("frame of " + Long.toUnsignedString(length) + " bytes at byte " + at + " runs past the end");
                    }
                }
                case '.' -> { // STOP
                    return pop(at);
                }
                case '(' -> mark();
                case '0' -> { // POP: the top item, or the mark when nothing lies above it
                    if (stack.size() > fence()) {
                        stack.remove(stack.size() - 1);
                    } else {
                        popMark(at);
                    }
                }
                case '1' -> popMark(at); // POP_MARK
                case '2' -> push(top(at)); // DUP
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) i32());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) u16());
                case 0x8a -> push(longValue(u8(), at)); // LONG1
                case 0x8b -> push(longValue(i32(), at)); // LONG4
                case 'G' -> push(Double.longBitsToDouble(bigEndian64()));
                case 'X' -> push(string(u32(), at)); // BINUNICODE
                case 0x8c -> push(string(u8(), at)); // SHORT_BINUNICODE
                case 0x8d -> push(string(u64(), at)); // BINUNICODE8
                case 'C' -> push(bytes(u8(), at)); // SHORT_BINBYTES
                case 'B' -> push(bytes(u32(), at)); // BINBYTES
                case 0x8e, 0x96 -> push(bytes(u64(), at)); // BINBYTES8, BYTEARRAY8
                case ')' -> push(new Tuple(List.of()));
                case 't' -> push(new Tuple(List.copyOf(popToMark(at))));
                case 0x85 -> push(tuple(at, 1));
                case 0x86 -> push(tuple(at, 2));
                case 0x87 -> push(tuple(at, 3));
                case ']' -> push(new ArrayList<>());
                case 'l' -> push(new ArrayList<>(popToMark(at)));
                case 'a' -> { // APPEND
                    Object value = pop(at);
                    list(top(at), at).add(value);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popToMark(at);
                    list(top(at), at).addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>());
                case 'd' -> { // DICT
                    Map<Object, Object> dict = new LinkedHashMap<>();
                    putAll(dict, popToMark(at), at);
                    push(dict);
                }
                case 's' -> { // SETITEM
                    Object value = pop(at);
                    Object key = pop(at);
                    dict(top(at), at).put(key(key, at), value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popToMark(at);
                    putAll(dict(top(at), at), items, at);
                }
                case 'c' -> push(global(line(at), line(at))); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(at);
                    Object module = pop(at);
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail("STACK_GLOBAL at byte " + at + " names a global with " + describe(module)
                                + " and " + describe(name) + ", not two strings");
                    }
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(at);
                    Object callable = pop(at);
                    push(reduce(callable, args, at));
                }
                case 'b' -> build(at); // BUILD
                case 'Q' -> push(persistentLoad(pop(at), at)); // BINPERSID
                case 'q' -> memo.put((long) u8(), top(at)); // BINPUT
                case 'r' -> memo.put(u32(), top(at)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), top(at)); // MEMOIZE
                case 'h' -> push(memoGet(u8(), at)); // BINGET
                case 'j' -> push(memoGet(u32(), at)); // LONG_BINGET
                default -> throw fail(unsupported(op, at));
            }
        }
        throw fail("more than " + MAX_OPCODES + " opcodes: refused as no state_dict");
    }

    // --- the known globals, as REDUCE applies them

    private Object global(String module, String name) {
        Object known = KNOWN.get(module + "." + name);
        if (known == null) {
            throw new CheckpointException(file, null, "global '" + CheckpointException.printable(module + "." + name)
                    + "' refused: pickle is code, and a state_dict needs only " + KNOWN_GLOBALS
                    + "; nothing from the file was run (torch.save(model.state_dict()) saves a model without code)");
        }
        return known;
    }

    private Object reduce(Object callable, Object args, int at) {
        if (callable instanceof StorageType t) {
            throw fail("REDUCE at byte " + at + " calls " + t.global + ", which only a persistent id may name");
        }
        if (!(callable instanceof Global g)) {
            throw fail("REDUCE at byte " + at + " calls " + describe(callable) + ", which is no function");
        }
        if (!(args instanceof Tuple a)) {
            throw fail(g.global + " at byte " + at + " called with " + describe(args) + ", not a tuple");
        }
        return switch (g) {
            case ORDERED_DICT -> {
                if (a.size() != 0) {
                    throw fail("collections.OrderedDict at byte " + at + " called with arguments");
                }
                yield new LinkedHashMap<>();
            }
            case REBUILD_TENSOR_V2 -> {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                arity(g, a, at, 6, 7);
                if (!(a.get(0) instanceof Storage storage) || !(a.get(2) instanceof Tuple size)
                        || !(a.get(3) instanceof Tuple stride) || !(a.get(4) instanceof Boolean)
                        || !(a.get(5) instanceof Map) || (a.size() == 7 && !(a.get(6) instanceof Map) && a.get(6) != NONE)) {
                    throw fail(g.global + " at byte " + at + " called with " + describeAll(a) + ", not (storage, "
                            + "storage_offset, size, stride, requires_grad, backward_hooks)");
                }
                yield new StoredTensor(storage, a.get(1), size, stride);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                // (data, requires_grad, backward_hooks[, state])
                int arity = g == Global.REBUILD_PARAMETER ? 3 : 4;
                arity(g, a, at, arity, arity);
                if (!(a.get(0) instanceof StoredTensor tensor) || !(a.get(1) instanceof Boolean) || !(a.get(2) instanceof Map)
                        || (arity == 4 && !(a.get(3) instanceof Map))) {
                    throw fail(g.global + " at byte " + at + " called with " + describeAll(a) + ", not (data, "
                            + "requires_grad, backward_hooks" + (arity == 4 ? ", state)" : ")"));
                }
                yield tensor;
            }
        };
    }

    private void arity(Global g, Tuple a, int at, int min, int max) {
        if (a.size() < min || a.size() > max) {
            throw fail(g.global + " at byte " + at + " called with " + a.size() + " arguments");
        }
    }

    /** BUILD sets an object's state: torch sets only an OrderedDict's _metadata (module versions), which is not kept. */
    private void build(int at) {
        Object state = pop(at);
        Object target = top(at);
        if (!(target instanceof Map) || !(state instanceof Map)) {
            throw fail("BUILD at byte " + at + " sets " + describe(state) + " on " + describe(target)
                    + "; only a dict's attributes are set in a state_dict");
        }
    }

    /** torch's persistent id of a storage; the same key always names the same storage. */
    private Storage persistentLoad(Object pid, int at) {
        if (!(pid instanceof Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))
                || !(t.get(1) instanceof StorageType type) || !(t.get(2) instanceof String key)
                || !(t.get(3) instanceof String) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw fail("persistent id at byte " + at + " is " + describe(pid) + ", not ('storage', storage type, key, "
                    + "location, element count)");
        }
        Storage storage = new Storage(type, key, numel);
        Storage before = storages.putIfAbsent(key, storage);
        if (before != null && !before.equals(storage)) {
            throw fail("storage '" + CheckpointException.printable(key) + "' declared as " + before.type().global + " of "
                    + before.numel() + " elements and as " + type.global + " of " + numel);
        }
        return storage;
    }

    // --- the stack

    private int fence() {
        return markCount == 0 ? 0 : marks[markCount - 1];
    }

    private void push(Object value) {
        stack.add(value);
    }

    private Object pop(int at) {
        if (stack.size() <= fence()) {
            throw fail("stack underflow at byte " + at);
        }
        return stack.remove(stack.size() - 1);
    }

    private Object top(int at) {
        if (stack.size() <= fence()) {
            throw fail("stack underflow at byte " + at);
        }
        return stack.get(stack.size() - 1);
    }

    private void mark() {
        if (markCount == marks.length) {
            marks = Arrays.copyOf(marks, markCount * 2);
        }
        marks[markCount++] = stack.size();
    }

    private void popMark(int at) {
        popToMark(at);
    }

    /** The items above the last mark, removed with the mark. */
    private List<Object> popToMark(int at) {
        if (markCount == 0) {
            throw fail("no MARK before the opcode at byte " + at);
        }
        int from = marks[--markCount];
        List<Object> top = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private Tuple tuple(int at, int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop(at);
        }
        return new Tuple(List.of(items));
    }

    private Object memoGet(long key, int at) {
        Object value = memo.get(key);
        if (value == null) {
            throw fail("memo entry " + key + " read at byte " + at + " was never stored");
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object target, int at) {
        if (!(target instanceof ArrayList)) {
            throw fail("APPEND at byte " + at + " to " + describe(target) + ", not a list");
        }
        return (List<Object>) target;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object target, int at) {
        if (!(target instanceof LinkedHashMap)) {
            throw fail("SETITEM at byte " + at + " on " + describe(target) + ", not a dict");
        }
        return (Map<Object, Object>) target;
    }

    private void putAll(Map<Object, Object> dict, List<Object> items, int at) {
        if (items.size() % 2 != 0) {
            throw fail("odd number of items for the dict at byte " + at);
        }
        for (int i = 0; i < items.size(); i += 2) {
            dict.put(key(items.get(i), at), items.get(i + 1));
        }
    }

    /** A dict key must be hashable in Python; Java hashes it too, so only immutable scalars and flat tuples of them. */
    private Object key(Object key, int at) {
        boolean scalar = key instanceof String || key instanceof Long || key instanceof BigInteger || key instanceof Double
                || key instanceof Boolean || key == NONE;
        boolean flatTuple = key instanceof Tuple t && t.items().stream().allMatch(i -> i instanceof String
                || i instanceof Long || i instanceof Double || i instanceof Boolean || i == NONE);
        if (!scalar && !flatTuple) {
            throw fail(describe(key) + " as a dict key at byte " + at);
        }
        return key;
    }

    // --- reading the opcodes' arguments

    private void need(long n) {
        if (n < 0 || n > data.length - pos) {
            throw fail("opcode at byte " + (pos - 1) + " needs " + Long.toUnsignedString(n) + " bytes; "
                    + (data.length - pos) + " remain");
        }
    }

    private int u8() {
        need(1);
        return data[pos++] & 0xFF;
    }

    private int u16() {
        need(2);
        int v = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8 | (data[pos + 2] & 0xFF) << 16 | (data[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    private long u32() {
        return i32() & 0xFFFFFFFFL;
    }

    private long u64() {
        need(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | (data[pos + i] & 0xFF);
        }
        pos += 8;
        return v;
    }

    private long bigEndian64() {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (data[pos + i] & 0xFF);
        }
        pos += 8;
        return v;
    }

    /** LONG1/LONG4: n bytes of little-endian two's complement. */
    private Object longValue(long n, int at) {
        if (n < 0) {
            throw fail("LONG4 at byte " + at + " of negative length " + n);
        }
        need(n);
        byte[] bigEndian = new byte[(int) n];
        for (int i = 0; i < n; i++) {
            bigEndian[i] = data[pos + (int) n - 1 - i];
        }
        pos += (int) n;
        if (n == 0) {
            return 0L;
        }
        BigInteger v = new BigInteger(bigEndian);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String string(long n, int at) {
        need(n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data, pos, (int) n)).toString();
            pos += (int) n;
            return s;
        } catch (CharacterCodingException e) {
            throw fail("string at byte " + at + " is not UTF-8");
        }
    }

    private byte[] bytes(long n, int at) {
        need(n);
        byte[] b = Arrays.copyOfRange(data, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    /** One newline-terminated line of GLOBAL's text form. */
    private String line(int at) {
        int end = pos;
        while (end < data.length && data[end] != '\n') {
            end++;
        }
        if (end == data.length) {
            throw fail("GLOBAL at byte " + at + " is not terminated by a newline");
        }
        String s = string(end - pos, at);
        pos = end + 1;
        return s;
    }

    // --- messages

    private CheckpointException fail(String problem) {
        return new CheckpointException(file, null, "data.pkl: " + problem);
    }

    private static String unsupported(int op, int at) {
        String name = switch (op) {
            case 0x81 -> "NEWOBJ (builds an object of a class)";
            case 0x92 -> "NEWOBJ_EX (builds an object of a class)";
            case 'i' -> "INST (builds an object of a class)";
            case 'o' -> "OBJ (builds an object of a class)";
            case 0x82, 0x83, 0x84 -> "EXT (a global from the copyreg registry)";
            case 'P' -> "PERSID (a text persistent id)";
            case 0x97, 0x98 -> "an out-of-band buffer";
            case 0x8f, 0x90, 0x91 -> "a set";
            case 'p', 'g', 'I', 'L', 'F', 'S', 'V', 'T', 'U' -> "a protocol 0 opcode";
            default -> null;
        };
        return name == null ? String.format("invalid opcode 0x%02x at byte %d", op, at)
                : String.format("opcode 0x%02x at byte %d, %s: a state_dict never needs it", op, at, name);
    }

    /** What a value is, in Python's words, without printing it (it may be huge or nest without end). */
    static String describe(Object v) {
        if (v == NONE) {
            return "None";
        }
        if (v instanceof Global g) {
            return "the global " + g.global;
        }
        if (v instanceof StorageType t) {
            return "the global " + t.global;
        }
        if (v instanceof Tuple t) {
            return "a tuple of " + t.size();
        }
        if (v instanceof List<?> l) {
            return "a list of " + l.size();
        }
        if (v instanceof Map<?, ?>) {
            return "a dict";
        }
        if (v instanceof String) {
            return "a str";
        }
        if (v instanceof Long || v instanceof BigInteger) {
            return "an int";
        }
        if (v instanceof Double) {
            return "a float";
        }
        if (v instanceof Boolean) {
            return "a bool";
        }
        if (v instanceof byte[]) {
            return "bytes";
        }
        if (v instanceof Storage) {
            return "a storage";
        }
        return v instanceof StoredTensor ? "a tensor" : "a " + v.getClass().getSimpleName();
    }

    private static String describeAll(Tuple t) {
        return "(" + t.items().stream().map(Unpickler::describe).collect(Collectors.joining(", ")) + ")";
    }
}
