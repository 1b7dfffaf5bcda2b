package com.scratchgpt.weights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import com.scratchgpt.Fixtures;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A safetensors file taken apart for tests that need broken ones: the header as editable JSON and
 * the data section as bytes, written back with a correct or a deliberately wrong header length.
 */
public final class SafetensorsImage {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    final ObjectNode header;
    final byte[] data;

    SafetensorsImage(ObjectNode header, byte[] data) {
        this.header = header;
        this.data = data;
    }

    /** Parses a well-formed file (a fixture); no validation beyond what the tests need. */
    public static SafetensorsImage read(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            int headerLength = Math.toIntExact(ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
            ObjectNode header = (ObjectNode) JSON.readTree(Arrays.copyOfRange(bytes, 8, 8 + headerLength));
            return new SafetensorsImage(header, Arrays.copyOfRange(bytes, 8 + headerLength, bytes.length));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies a fixture's config.json and model.safetensors into dir; returns the copied model.safetensors. */
    public static Path copyFixture(String name, Path dir) {
        Path from = Fixtures.of("tiny-hf").dir().resolveSibling(name);
        try {
            Files.copy(from.resolve("config.json"), dir.resolve("config.json"));
            return Files.copy(from.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One tensor's header entry, to edit in place. */
    public ObjectNode tensor(String name) {
        return (ObjectNode) header.get(name);
    }

    /** Writes the file with its true header length. */
    public Path write(Path file) {
        byte[] h = JSON.writeValueAsBytes(header);
        return writeRaw(file, h.length, h, data);
    }

    /** Writes exactly these bytes: an 8-byte little-endian header length (true or not), the header, the data. */
    static Path writeRaw(Path file, long headerLength, byte[] header, byte[] data) {
        ByteBuffer out = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(headerLength).put(header).put(data);
        try {
            return Files.write(file, out.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
