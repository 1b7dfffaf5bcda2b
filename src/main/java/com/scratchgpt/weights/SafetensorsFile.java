package com.scratchgpt.weights;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

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
public final class SafetensorsFile implements TensorFile {

    /** Headers larger than this are refused before anything is allocated. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** One tensor's header entry. */
    public record Entry(String name, Dtype dtype, long[] shape, long begin, long end) implements TensorFile.Entry {
    }

    /** A tensor listed twice is ambiguous (which offsets hold it?): refused, not silently the last one. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private final Path path;
    private final WeightsChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;

    private SafetensorsFile(Path path, WeightsChannel channel, long dataStart, Map<String, Entry> entries) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
    }

    /** Opens and validates the header; every problem is a {@link CheckpointException} naming the file. */
    public static SafetensorsFile open(Path path) {
        return WeightsChannel.open(path, channel -> {
            long size = channel.size();
            if (size < 8) {
                throw new CheckpointException(path, null, "truncated: " + size + " bytes, shorter than the 8-byte header length");
            }
            long headerLength = channel.read(0, 8).getLong(0);
            if (headerLength < 2 || headerLength > size - 8) {
                throw new CheckpointException(path, null, "header length " + Long.toUnsignedString(headerLength)
                        + " does not fit in the file of " + size + " bytes");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new CheckpointException(path, null, "header length " + headerLength + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            byte[] header = channel.read(8, (int) headerLength).array();
            long dataStart = 8 + headerLength;
            return parseHeader(path, channel, header, dataStart, size - dataStart);
        });
    }

    private static SafetensorsFile parseHeader(Path path, WeightsChannel channel, byte[] header, long dataStart,
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
        Dtype dtype = switch (dtypeNode.asString()) {
            case "F32" -> Dtype.F32;
            case "F16" -> Dtype.F16;
            case "BF16" -> Dtype.BF16;
            default -> throw new CheckpointException(path, name, "unsupported dtype " + dtypeNode.asString()
                    + " (F32, F16 and BF16 load)");
        };
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

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Map<String, Entry> entries() {
        return entries;
    }

    @Override
    public void read(String name, BiConsumer<TensorFile.Entry, ByteBuffer> reader) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException(path, name, "missing tensor");
        }
        try (WeightsChannel.Region region = channel.map(name, dataStart + e.begin(), e.end() - e.begin())) {
            reader.accept(e, region.bytes());
        }
    }

    @Override
    public void close() {
        channel.close();
    }
}
