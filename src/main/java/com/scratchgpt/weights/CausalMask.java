package com.scratchgpt.weights;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.regex.Pattern;

import com.scratchgpt.model.GPTConfig;

/**
 * The seeds register each attention's causal mask as a buffer,
 * {@code torch.triu(torch.ones(context_length, context_length), diagonal=1)}, so their state_dict holds
 * {@code trf_blocks.N.att.mask} (float, or bool when registered so). The model computes that mask itself;
 * a stored one is never required, but when present it must be exactly that mask: a model trained with
 * another one would not compute what was trained.
 */
final class CausalMask {

    private static final Pattern NAME = Pattern.compile("trf_blocks\\.\\d+\\.att\\.mask");

    /** A context of 16384 positions; a mask is checked as floats, so larger ones would take over 1 GB. */
    static final long MAX_ELEMENTS = 1L << 28;

    private CausalMask() {
    }

    /** Every mask buffer the file holds is (context_length, context_length), ones above the diagonal, zeros elsewhere. */
    static void check(TensorFile file, GPTConfig cfg) {
        int n = cfg.contextLength();
        FloatBuffer values = null;
        for (TensorFile.Entry e : file.entries().values()) {
            if (!NAME.matcher(e.name()).matches()) {
                continue;
            }
            if (!Arrays.equals(e.shape(), new long[] {n, n})) {
                throw new CheckpointException(file.path(), e.name(), "shape " + Arrays.toString(e.shape())
                        + " is not the causal mask's [" + n + ", " + n + "] (context_length " + n + ")");
            }
            if ((long) n * n > MAX_ELEMENTS) {
                throw new CheckpointException(file.path(), e.name(), "a causal mask of " + (long) n * n
                        + " elements is more than the " + MAX_ELEMENTS + " this loader checks");
            }
            if (values == null) {
                values = FloatBuffer.allocate(n * n);
            }
            file.readInto(e.name(), values, 0, false);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    float expected = j > i ? 1f : 0f;
                    if (values.get(i * n + j) != expected) {
                        throw new CheckpointException(file.path(), e.name(), "not the causal mask: element [" + i + ", "
                                + j + "] is " + values.get(i * n + j) + " where torch.triu(torch.ones(" + n + ", " + n
                                + "), diagonal=1) has " + (int) expected);
                    }
                }
            }
        }
    }
}
