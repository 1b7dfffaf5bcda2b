package com.scratchgpt.weights;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes pickle opcodes by hand, for tests that need pickles torch.save would never write: each method
 * appends one opcode (or, for {@link #tensor}, the sequence torch.save writes for one tensor) and returns
 * this writer.
 */
final class PickleWriter {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static PickleWriter protocol(int version) {
        return new PickleWriter().op(0x80).op(version);
    }

    PickleWriter op(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    PickleWriter raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    PickleWriter mark() {
        return op('(');
    }

    PickleWriter emptyDict() {
        return op('}');
    }

    PickleWriter emptyTuple() {
        return op(')');
    }

    PickleWriter tuple() {
        return op('t');
    }

    PickleWriter setitems() {
        return op('u');
    }

    PickleWriter reduce() {
        return op('R');
    }

    PickleWriter stop() {
        return op('.');
    }

    PickleWriter none() {
        return op('N');
    }

    PickleWriter bool(boolean value) {
        return op(value ? 0x88 : 0x89);
    }

    /** BININT: a signed 32-bit integer. */
    PickleWriter integer(int value) {
        return op('J', value & 0xFF, value >>> 8 & 0xFF, value >>> 16 & 0xFF, value >>> 24);
    }

    /** LONG1: a 64-bit integer in eight bytes. */
    PickleWriter longInteger(long value) {
        op(0x8a, 8);
        for (int i = 0; i < 8; i++) {
            op((int) (value >>> (8 * i)) & 0xFF);
        }
        return this;
    }

    /** BINUNICODE. */
    PickleWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X', b.length & 0xFF, b.length >>> 8 & 0xFF, b.length >>> 16 & 0xFF, b.length >>> 24).raw(b);
    }

    /** GLOBAL, in the text form protocol 2 writes. */
    PickleWriter global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** STACK_GLOBAL of two SHORT_BINUNICODE strings, as protocol 4 writes it. */
    PickleWriter stackGlobal(String module, String name) {
        return shortStr(module).shortStr(name).op(0x93);
    }

    PickleWriter shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op(0x8c, b.length).raw(b);
    }

    /** An empty collections.OrderedDict, as torch writes a state_dict or backward_hooks. */
    PickleWriter orderedDict() {
        return global("collections", "OrderedDict").emptyTuple().reduce();
    }

    /** A tuple of ints. */
    PickleWriter ints(long... values) {
        mark();
        for (long v : values) {
            longInteger(v);
        }
        return tuple();
    }

    /**
     * torch._utils._rebuild_tensor_v2(('storage', torch.&lt;type&gt;, key, 'cpu', numel), offset, size, stride,
     * False, OrderedDict()), as torch.save writes a tensor.
     */
    PickleWriter tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", storageType).str(key).str("cpu").longInteger(numel).tuple().op('Q');
        longInteger(offset).ints(size).ints(stride).bool(false).orderedDict();
        return tuple().reduce();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
