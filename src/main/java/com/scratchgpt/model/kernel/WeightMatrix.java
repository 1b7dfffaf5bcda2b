package com.scratchgpt.model.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * A weight matrix as nn.Linear stores it, (out features, in features) row-major, held in one
 * {@link WeightFormat}, and its product with activation rows: {@code y[r] = x[r] · W^T + bias}.
 *
 * <p>Every output element is reduced in one fixed order that depends only on the matrix and the machine's
 * vector width, never on how many rows a call carries, where a row sits among them, or how many threads
 * run: a row's result is bit-identical whether it is computed alone or among 40 others.
 *
 * <p>The factories below need the JDK's Vector API ({@code java --add-modules jdk.incubator.vector});
 * without it they throw {@link IllegalStateException} saying so ({@link #kernelsAvailable}).
 */
public interface WeightMatrix {

    WeightFormat format();

    int outFeatures();

    int inFeatures();

    /** Bytes the weights occupy in their format (the scales included; the bias is not the matrix's). */
    long residentBytes();

    /**
     * y[r, 0..out) = x[r, 0..in) · W^T + bias for r in [0, rows): x is (rows, in) and y is (rows, out), both
     * read and written from index 0 whatever their positions; bias is (out), or null for none.
     */
    void multiply(FloatBuffer x, FloatBuffer bias, FloatBuffer y, int rows);

    /** Row {@code o} of W as the products see it (dequantised), into dst[offset, offset + in). */
    void dequantizeRow(int o, float[] dst, int offset);

    /** Whether this JVM has the Vector API the kernels are written in. */
    static boolean kernelsAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /**
     * float32 weights in {@code weights} from index 0, in the machine's byte order (as ND4J's
     * {@code DataBuffer.asNio()} gives them), used where they are: nothing is copied.
     */
    static WeightMatrix f32(ByteBuffer weights, int out, int in) {
        requireKernels(WeightFormat.F32);
        return new F32Matrix(weights.duplicate().order(ByteOrder.nativeOrder()), out, in);
    }

    /** These float32 values (out, in), from index 0, in {@code format}: copied, rounded or quantised. */
    static WeightMatrix of(WeightFormat format, FloatBuffer values, int out, int in) {
        requireKernels(format);
        return switch (format) {
            case F32 -> F32Matrix.copyOf(values, out, in);
            case BF16 -> BF16Matrix.of(values, out, in);
            case Q8_0 -> Q8_0Matrix.quantize(values, out, in);
        };
    }

    /** bfloat16 weights from their bits (a BF16 checkpoint's tensor), kept exactly. */
    static WeightMatrix bf16FromBf16(ShortBuffer bits, int out, int in) {
        requireKernels(WeightFormat.BF16);
        return BF16Matrix.fromBf16(bits, out, in);
    }

    /** bfloat16 weights from binary16 bits (an F16 checkpoint's tensor), each rounded to nearest even. */
    static WeightMatrix bf16FromF16(ShortBuffer bits, int out, int in) {
        requireKernels(WeightFormat.BF16);
        return BF16Matrix.fromF16(bits, out, in);
    }

    /** The vector shapes and threads the kernels run with on this machine, for logs and benchmarks. */
    static String kernelDescription() {
        requireKernels(WeightFormat.F32);
        return StreamedMatrix.description();
    }

    private static void requireKernels(WeightFormat format) {
        if (!kernelsAvailable()) {
            throw new IllegalStateException("weight format " + format.id() + " needs the JDK's Vector API: start"
                    + " java with --add-modules jdk.incubator.vector");
        }
    }
}
