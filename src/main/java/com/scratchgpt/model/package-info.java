/**
 * The GPT-2 model of the seeds, on ND4J: configuration, layers, the forward pass, the KV cache,
 * PyTorch-compatible initialisation and parameter counting.
 * Knows nothing of HTTP, Spring or tokenizers; weights arrive from {@code weights}.
 */
package com.scratchgpt.model;
