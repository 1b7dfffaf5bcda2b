package com.scratchgpt.weights;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

import com.scratchgpt.model.kernel.Float16;

/**
 * The stored element types that load, each widened to float32 on reading: the three weight types, and
 * BOOL, which only the seeds' attention-mask buffers use (in .pth files).
 */
public enum Dtype {
    F32(4), F16(2), BF16(2), BOOL(1);

    final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    /** Element i of little-endian data, as float32 (exactly: every F16 and BF16 value is a float32). */
    float get(ByteBuffer data, int i) {
        return switch (this) {
            case F32 -> data.getFloat(i * 4);
            case F16 -> Float16.toFloat(data.getShort(i * 2));
            case BF16 -> Float.intBitsToFloat((data.getShort(i * 2) & 0xFFFF) << 16);
            case BOOL -> data.get(i) == 0 ? 0f : 1f;
        };
    }

    /**
     * Widens {@code shape}'s elements from the start of data into dst at dstOffset. With {@code transpose}
     * a 2-D [rows, cols] tensor is written as [cols, rows].
     */
    void widen(ByteBuffer data, long[] shape, FloatBuffer dst, int dstOffset, boolean transpose) {
        int n = numel(shape);
        for (int i = 0; i < n; i++) {
            dst.put(dstOffset + destination(i, shape, transpose), get(data, i));
        }
    }

    /**
     * Copies the bits of {@code shape}'s elements of a 16-bit type (F16, BF16) from the start of data into dst
     * at dstOffset, as stored; with {@code transpose} a 2-D [rows, cols] tensor is written as [cols, rows].
     */
    void copyBits(ByteBuffer data, long[] shape, ShortBuffer dst, int dstOffset, boolean transpose) {
        if (bytes != 2) {
            throw new IllegalArgumentException(this + " is not a 16-bit type");
        }
        int n = numel(shape);
        for (int i = 0; i < n; i++) {
            dst.put(dstOffset + destination(i, shape, transpose), data.getShort(i * 2));
        }
    }

    private static int numel(long[] shape) {
        long numel = 1;
        for (long d : shape) {
            numel *= d;
        }
        return Math.toIntExact(numel);
    }

    /** Where stored element i lands: i, or with {@code transpose} its place in the [cols, rows] transpose. */
    private static int destination(int i, long[] shape, boolean transpose) {
        if (!transpose) {
            return i;
        }
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        return (i % cols) * rows + i / cols;
    }
}
