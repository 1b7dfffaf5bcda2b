/**
 * Turning logits into text: the seeds' greedy loop, the KV-cached engine, samplers, stop sequences
 * and log-probabilities; and inspections, one forward pass shown layer by layer on the same engine.
 * Uses the model and the tokenizer; knows nothing of HTTP or Spring, and reports what it does only
 * through {@link com.scratchgpt.generation.GenerationObserver}.
 */
package com.scratchgpt.generation;
