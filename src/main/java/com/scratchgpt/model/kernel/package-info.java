/**
 * The weight kernels: one {@link com.scratchgpt.model.kernel.WeightMatrix} per weight format (f32, bf16,
 * q8_0) and its products with activation rows, on the JDK's Vector API, split over the cores, bitwise
 * independent of the number of rows. Knows nothing of ND4J, the layers or Spring: weights come in as
 * buffers or arrays, activations and results go through float buffers.
 */
package com.scratchgpt.model.kernel;
