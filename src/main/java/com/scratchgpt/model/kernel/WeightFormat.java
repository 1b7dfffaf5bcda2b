package com.scratchgpt.model.kernel;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How a weight matrix is held in memory and computed ({@code gpt.model.weight-format}).
 */
public enum WeightFormat {

    /** float32, 4 bytes a weight. */
    F32("f32"),
    /** bfloat16 (float32's upper 16 bits, rounded to nearest even), 2 bytes a weight. */
    BF16("bf16"),
    /** GGML's Q8_0: int8 in blocks of 32 along a row, one binary16 scale a block: 34 bytes per 32 weights. */
    Q8_0("q8_0");

    private final String id;

    WeightFormat(String id) {
        this.id = id;
    }

    /** The name users write: {@code f32}, {@code bf16}, {@code q8_0}. */
    public String id() {
        return id;
    }

    /** The format of this name ({@link #id}), or an exception listing the names there are. */
    public static WeightFormat of(String id) {
        for (WeightFormat f : values()) {
            if (f.id.equals(id)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown weight format '" + id + "': expected one of "
                + Arrays.stream(values()).map(WeightFormat::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
