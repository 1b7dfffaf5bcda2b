/**
 * The weight kernels: one {@link com.scratchgpt.model.kernel.WeightMatrix} per weight format (f32, bf16,
 * q8_0) and its products with activation rows, and the attention of a decoding row over its KV cache
 * ({@link com.scratchgpt.model.kernel.ScaledDotProductAttention}); on the JDK's Vector API, every sum in an
 * order no other row changes. Knows nothing of ND4J, the layers or Spring: weights come in as buffers or
 * arrays, activations and results go through buffers.
 */
package com.scratchgpt.model.kernel;
