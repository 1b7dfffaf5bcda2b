package com.scratchgpt.weights;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

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
        long numel = 1;
        for (long d : shape) {
            numel *= d;
        }
        int n = Math.toIntExact(numel);
        int rows = transpose ? Math.toIntExact(shape[0]) : 1;
        int cols = transpose ? Math.toIntExact(shape[1]) : n;
        for (int i = 0; i < n; i++) {
            int to = transpose ? (i % cols) * rows + i / cols : i;
            dst.put(dstOffset + to, get(data, i));
        }
    }
}
