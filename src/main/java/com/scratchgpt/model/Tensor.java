package com.scratchgpt.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A dense row-major float32 ND4J array with the views the forward pass needs: a pointer for BLAS calls,
 * a direct float buffer for the element-wise loops, and the same memory as bytes for the Vector API's
 * loads (the weight kernels, attention). All views share the array's memory.
 */
public final class Tensor {

    private final INDArray array;
    private final FloatPointer pointer;
    private final FloatBuffer buffer;
    private final ByteBuffer bytes;

    private Tensor(INDArray array) {
        if (array.dataType() != DataType.FLOAT || array.ordering() != 'c' || array.isView()) {
            throw new IllegalArgumentException("a Tensor needs a dense c-ordered float32 array");
        }
        this.array = array;
        this.pointer = new FloatPointer(array.data().addressPointer());
        this.buffer = array.data().asNioFloat();
        this.bytes = array.data().asNio().order(ByteOrder.nativeOrder());
    }

    /** A new zero-filled tensor of this shape. */
    public static Tensor zeros(long... shape) {
        return new Tensor(Nd4j.create(DataType.FLOAT, shape));
    }

    public INDArray array() {
        return array;
    }

    public long[] shape() {
        return array.shape();
    }

    public long length() {
        return array.length();
    }

    /** The memory for element-wise loops; absolute get/put only (the position is never moved). */
    public FloatBuffer buffer() {
        return buffer;
    }

    /** The same memory as bytes in the machine's order (element i at byte 4 i); absolute access only. */
    public ByteBuffer bytes() {
        return bytes;
    }

    /** A BLAS pointer to the element at this flat offset. */
    public FloatPointer at(long offset) {
        return offset == 0 ? pointer : new FloatPointer(pointer).position(offset);
    }

    /** Copies {@code length} values from {@code src} at {@code srcOffset} to this tensor at {@code offset}. */
    public void copyFrom(Tensor src, int srcOffset, int offset, int length) {
        buffer.put(offset, src.buffer, srcOffset, length);
    }

    /**
     * Frees the memory now, as PyTorch frees a tensor nobody holds, rather than when the garbage collector finds
     * the array: the next allocation then reuses it instead of faulting in fresh pages. The tensor is not used
     * again.
     */
    void free() {
        array.close();
    }

    /** this[i] += other[i] for the first {@code n} values. */
    void addInPlace(Tensor other, int n) {
        FloatBuffer b = other.buffer;
        for (int i = 0; i < n; i++) {
            buffer.put(i, buffer.get(i) + b.get(i));
        }
    }
}
