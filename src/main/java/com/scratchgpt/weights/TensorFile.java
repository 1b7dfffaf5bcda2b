package com.scratchgpt.weights;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A weights file as the loader reads it, whatever its format: named tensors with their stored dtype and
 * shape, each widened to float32 on reading, or copied as stored when 16-bit. Opening validates everything
 * but the tensor data; every problem is a {@link CheckpointException} naming the file.
 */
interface TensorFile extends AutoCloseable {

    /** One stored tensor. */
    interface Entry {
        String name();

        Dtype dtype();

        long[] shape();

        default long numel() {
            long n = 1;
            for (long d : shape()) {
                n *= d;
            }
            return n;
        }
    }

    Path path();

    Map<String, ? extends Entry> entries();

    /**
     * Hands a tensor's entry and its stored data (little-endian, from its first element) to {@code reader}
     * while the data is mapped.
     */
    void read(String name, BiConsumer<Entry, ByteBuffer> reader);

    /**
     * Copies a tensor, widened to float32, into dst at dstOffset. With {@code transpose} a 2-D
     * [rows, cols] tensor is written as [cols, rows].
     */
    default void readInto(String name, FloatBuffer dst, int dstOffset, boolean transpose) {
        read(name, (e, data) -> e.dtype().widen(data, e.shape(), dst, dstOffset, transpose));
    }

    /** Copies a 16-bit tensor's bits (F16, BF16) as stored into dst at dstOffset, transposed as {@link #readInto}. */
    default void readBitsInto(String name, ShortBuffer dst, int dstOffset, boolean transpose) {
        read(name, (e, data) -> e.dtype().copyBits(data, e.shape(), dst, dstOffset, transpose));
    }

    @Override
    void close();

    /** A PyTorch checkpoint ({@code .pth}, {@code .pt}) or, for any other name, a safetensors file. */
    static TensorFile open(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".pth") || name.endsWith(".pt") ? PthFile.open(file) : SafetensorsFile.open(file);
    }
}
