package com.scratchgpt.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A PyTorch checkpoint saved with {@code torch.save(model.state_dict(), "model.pth")}, or with
 * {@code torch.save({"model_state_dict": ..., "optimizer_state_dict": ..., ...}, ...)}, whose other entries
 * are skipped unread. The zip archive ({@link PthArchive}) and the pickle ({@link Unpickler}, which runs
 * nothing from the file) are validated on open, with every model tensor: its storage present with the
 * bytes its element count needs, the tensor inside it and contiguous. Tensor data is then memory-mapped
 * one storage at a time, checked against its CRC-32 once, and widened to float32.
 */
public final class PthFile implements TensorFile {

    /** One tensor of the state_dict: a contiguous run of elements of a storage, from storageOffset on. */
    public record Entry(String name, Dtype dtype, long[] shape, String storage, long storageOffset)
            implements TensorFile.Entry {
    }

    private final WeightsChannel channel;
    private final PthArchive archive;
    private final Map<String, Entry> entries;
    private final Set<String> checkedStorages = new HashSet<>();

    private PthFile(WeightsChannel channel, PthArchive archive, Map<String, Entry> entries) {
        this.channel = channel;
        this.archive = archive;
        this.entries = entries;
    }

    /** Opens and validates the archive, the pickle and every model tensor's descriptor; reads no tensor data. */
    public static PthFile open(Path path) {
        return WeightsChannel.open(path, channel -> {
            PthArchive archive = PthArchive.read(channel);
            Object root = Unpickler.load(path, archive.pickle());
            Map<String, Entry> entries = new LinkedHashMap<>();
            stateDict(path, root).forEach((key, value) -> {
                if (!(key instanceof String name)) {
                    throw new CheckpointException(path, null, "a state_dict key that is " + Unpickler.describe(key)
                            + ", not a str");
                }
                entries.put(name, entry(path, archive, name, value));
            });
            return new PthFile(channel, archive, Collections.unmodifiableMap(entries));
        });
    }

    /** The saved object itself, or its "model_state_dict"; any other shape is refused. */
    private static Map<?, ?> stateDict(Path path, Object root) {
        if (!(root instanceof Map<?, ?> dict)) {
            throw new CheckpointException(path, null, "the pickle holds " + Unpickler.describe(root) + ", not a "
                    + "state_dict (torch.save(model.state_dict(), ...)) or a dict with 'model_state_dict'");
        }
        if (!dict.containsKey("model_state_dict")) {
            return dict;
        }
        if (!(dict.get("model_state_dict") instanceof Map<?, ?> model)) {
            throw new CheckpointException(path, null, "'model_state_dict' is "
                    + Unpickler.describe(dict.get("model_state_dict")) + ", not a state_dict");
        }
        return model;
    }

    private static Entry entry(Path path, PthArchive archive, String name, Object value) {
        if (!(value instanceof Unpickler.StoredTensor t)) {
            throw new CheckpointException(path, name, Unpickler.describe(value) + ", not a tensor: a .pth "
                    + "loads as torch.save(model.state_dict()) or as a dict with 'model_state_dict'");
        }
        Unpickler.StorageType type = t.storage().type();
        if (type.dtype == null) {
            throw new CheckpointException(path, name, "unsupported storage type " + type.global
                    + " (float32, float16 and bfloat16 load)");
        }
        long[] shape = longs(path, name, "size", t.size());
        long[] stride = longs(path, name, "stride", t.stride());
        if (!(t.offset() instanceof Long offset) || offset < 0) {
            throw new CheckpointException(path, name, "storage offset is not a non-negative integer");
        }
        long numel = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new CheckpointException(path, name, "invalid size " + Arrays.toString(shape));
            }
            try {
                numel = Math.multiplyExact(numel, d);
            } catch (ArithmeticException e) {
                throw new CheckpointException(path, name, "size " + Arrays.toString(shape) + " is too large");
            }
        }
        if (stride.length != shape.length || !contiguous(shape, stride)) {
            throw new CheckpointException(path, name, "strides " + Arrays.toString(stride) + " for size "
                    + Arrays.toString(shape) + " are not contiguous: save it after .contiguous()");
        }
        Unpickler.Storage storage = t.storage();
        if (offset > storage.numel() || numel > storage.numel() - offset) {
            throw new CheckpointException(path, name, numel + " elements from offset " + offset + " run past its "
                    + "storage '" + CheckpointException.printable(storage.key()) + "' of " + storage.numel());
        }
        PthArchive.Member member = archive.member("data/" + storage.key());
        if (member == null) {
            throw new CheckpointException(path, name, "its storage 'data/" + CheckpointException.printable(storage.key())
                    + "' is missing from the archive");
        }
        if (storage.numel() > Long.MAX_VALUE / type.bytes || member.size() != storage.numel() * type.bytes) {
            throw new CheckpointException(path, name, "its storage '" + member.name() + "' holds " + member.size()
                    + " bytes, but " + storage.numel() + " elements of " + type.global + " need "
                    + storage.numel() * type.bytes);
        }
        return new Entry(name, type.dtype, shape, storage.key(), offset);
    }

    private static long[] longs(Path path, String name, String what, Unpickler.Tuple tuple) {
        long[] out = new long[tuple.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(tuple.get(i) instanceof Long v)) {
                throw new CheckpointException(path, name, what + " holds " + Unpickler.describe(tuple.get(i))
                        + " that is not a 64-bit integer");
            }
            out[i] = v;
        }
        return out;
    }

    /** Row-major strides; a dimension of size 1 may have any stride, and an empty tensor any strides. */
    private static boolean contiguous(long[] shape, long[] stride) {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 0) {
                return true;
            }
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    @Override
    public Path path() {
        return channel.path();
    }

    @Override
    public Map<String, Entry> entries() {
        return entries;
    }

    @Override
    public void read(String name, BiConsumer<TensorFile.Entry, ByteBuffer> reader) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(path(), name, "missing tensor");
        }
        PthArchive.Member member = archive.member("data/" + e.storage());
        // a storage shared by several tensors (a tied head, views of one fused matrix) is checked once
        boolean check = !checkedStorages.contains(e.storage());
        try (WeightsChannel.Region region = archive.map(member, name, check)) {
            ByteBuffer data = region.bytes().position(Math.toIntExact(e.storageOffset() * e.dtype().bytes))
                    .slice().order(ByteOrder.LITTLE_ENDIAN);
            reader.accept(e, data);
        }
        checkedStorages.add(e.storage());
    }

    @Override
    public void close() {
        channel.close();
    }
}
