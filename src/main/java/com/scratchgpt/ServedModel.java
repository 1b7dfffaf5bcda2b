package com.scratchgpt;

import com.scratchgpt.model.GPTModel;

/**
 * The model this service runs and where it came from.
 *
 * @param model      the model
 * @param source     the weights file, or the preset and seed it was initialised with
 * @param layout     "book", "huggingface", or "random-init"
 * @param dtype      the dtype(s) the weights were stored in (computation is float32)
 * @param loadMillis how long loading or initialising took
 */
public record ServedModel(GPTModel model, String source, String layout, String dtype, long loadMillis) {
}
