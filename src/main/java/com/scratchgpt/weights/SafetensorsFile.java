package com.scratchgpt.weights;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.scratchgpt.model.kernel.Float16;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A safetensors file: an 8-byte little-endian header length, a JSON header mapping each tensor name
 * to {@code dtype}, {@code shape} and {@code data_offsets} (relative to the end of the header), then
 * the raw little-endian data. The header is validated whole on open; tensor data is memory-mapped one
 * tensor at a time and widened to float32 (F32, F16 and BF16 are read).
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Headers larger than this are refused before anything is allocated. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** One tensor's header entry. */
    public record Entry(String name, Dtype dtype, long[] shape, long begin, long end) {

        public long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** The stored element types that load. */
    public enum Dtype {
        F32(4), F16(2), BF16(2);

        final int bytes;

        Dtype(int bytes) {
            this.bytes = bytes;
        }
    }

    /** A tensor listed twice is ambiguous (which offsets hold it?): refused, not silently the last one. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
    }

    /** Opens and validates the header; every problem is a {@link CheckpointException} naming the file. */
    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path, null, "file not found");
        } catch (IOException e) {
            throw new CheckpointException(path, null, "cannot open: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            if (size < 8) {
                throw new CheckpointException(path, null, "truncated: " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength < 2 || headerLength > size - 8) {
                throw new CheckpointException(path, null, "header length " + Long.toUnsignedString(headerLength)
                        + " does not fit in the file of " + size + " bytes");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new CheckpointException(path, null, "header length " + headerLength + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLength);
            readFully(channel, header, 8);
            long dataStart = 8 + headerLength;
            SafetensorsFile file = parseHeader(path, channel, header.array(), dataStart, size - dataStart);
            return file;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(path, null, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static SafetensorsFile parseHeader(Path path, FileChannel channel, byte[] header, long dataStart,
                                               long dataSize) {
        JsonNode root;
        try {
            root = JSON.readTree(header);
        } catch (JacksonException e) {
            throw new CheckpointException(path, null, "invalid header JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(path, null, "invalid header: not a JSON object");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals("__metadata__")) {
                if (!node.isObject()) {
                    throw new CheckpointException(path, null, "invalid header: __metadata__ is not an object");
                }
                continue;
            }
            entries.put(name, parseEntry(path, name, node, dataSize));
        }
        checkNoOverlap(path, entries);
        return new SafetensorsFile(path, channel, dataStart, Collections.unmodifiableMap(entries));
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) {
        if (!node.isObject()) {
            throw new CheckpointException(path, name, "header entry is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isString()) {
            throw new CheckpointException(path, name, "missing dtype");
        }
        Dtype dtype;
        try {
            dtype = Dtype.valueOf(dtypeNode.asString());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(path, name, "unsupported dtype " + dtypeNode.asString()
                    + " (F32, F16 and BF16 load)");
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new CheckpointException(path, name, "missing shape");
        }
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new CheckpointException(path, name, "invalid shape " + shapeNode);
            }
            shape[i] = d.asLong();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                throw new CheckpointException(path, name, "shape " + shapeNode + " is too large");
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new CheckpointException(path, name, "invalid data_offsets " + offsets);
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw new CheckpointException(path, name, "data_offsets [" + begin + ", " + end
                    + "] out of range: the data section has " + dataSize + " bytes");
        }
        if (numel > Long.MAX_VALUE / dtype.bytes || end - begin != numel * dtype.bytes) {
            throw new CheckpointException(path, name, "data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin) + " bytes, but shape " + shapeNode + " of " + dtype + " needs " + numel * dtype.bytes);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkNoOverlap(Path path, Map<String, Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1);
            Entry cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw new CheckpointException(path, cur.name(), "data_offsets overlap those of '" + prev.name() + "'");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    /**
     * Copies a tensor, widened to float32, into dst at dstOffset. With {@code transpose} a 2-D
     * [rows, cols] tensor is written as [cols, rows].
     */
    public void readInto(String name, FloatBuffer dst, int dstOffset, boolean transpose) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(path, name, "missing tensor");
        }
        long bytes = e.end() - e.begin();
        if (bytes > Integer.MAX_VALUE) {
            // one mapping, like one float buffer, holds at most 2 GB; GPT-2 XL's largest tensor is 322 MB
            throw new CheckpointException(path, name, bytes + " bytes: more than the 2 GB one tensor may hold");
        }
        MappedByteBuffer mapped;
        try {
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), bytes);
        } catch (IOException ex) {
            throw new CheckpointException(path, name, "cannot map the data: " + ex.getMessage(), ex);
        }
        try {
            ByteBuffer data = mapped.order(ByteOrder.LITTLE_ENDIAN);
            int n = Math.toIntExact(e.numel());
            int rows = transpose ? Math.toIntExact(e.shape()[0]) : 1;
            int cols = transpose ? Math.toIntExact(e.shape()[1]) : n;
            for (int i = 0; i < n; i++) {
                float v = switch (e.dtype()) {
                    case F32 -> data.getFloat(i * 4);
                    case F16 -> Float16.toFloat(data.getShort(i * 2));
                    case BF16 -> Float.intBitsToFloat((data.getShort(i * 2) & 0xFFFF) << 16);
                };
                int to = transpose ? (i % cols) * rows + i / cols : i;
                dst.put(dstOffset + to, v);
            }
        } finally {
            unmap(mapped);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void readFully(FileChannel channel, ByteBuffer dst, long position) throws IOException {
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position + dst.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written; closing a read-only channel cannot lose data
        }
    }

    /** Releases a mapping now instead of at some later GC, so that loading never keeps the whole file mapped. */
    private static void unmap(MappedByteBuffer buffer) {
        try {
            Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            ((sun.misc.Unsafe) f.get(null)).invokeCleaner(buffer);
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // the mapping is then released when the buffer is collected
        }
    }
}
