package com.scratchgpt.model;

import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * Where a model's parameter values come from while it is built ({@link GPTModel#load}): a checkpoint or
 * the PyTorch-compatible initialiser. Each parameter of {@link ParameterTable#parameters} is asked for
 * once, in that order (the seeds' construction order), so a model can be built one tensor at a time
 * without ever holding all of it in float32.
 */
public interface ParameterSource {

    /** How a source holds a tensor in 16 bits. */
    enum Half {
        /** bfloat16 ({@code torch.bfloat16}). */
        BF16,
        /** IEEE binary16 ({@code torch.float16}). */
        F16
    }

    /** Writes p's values as float32, its shape row-major, into dst from index 0. */
    void read(ParameterTable.Parameter p, FloatBuffer dst);

    /** The 16-bit type the source holds all of p in, or null (float32, or a mix). */
    default Half half(ParameterTable.Parameter p) {
        return null;
    }

    /** Writes the bits of p, held in {@link #half}, its shape row-major, into dst from index 0. */
    default void readHalf(ParameterTable.Parameter p, ShortBuffer dst) {
        throw new UnsupportedOperationException(p.name() + " is not held in 16 bits");
    }
}
