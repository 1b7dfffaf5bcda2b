/**
 * Reading weights: the safetensors format, the two checkpoint layouts (the seeds' names and Hugging
 * Face GPT-2's) and their config.json forms, mapped onto the model's parameters.
 * Knows nothing of HTTP or generation.
 */
package com.scratchgpt.weights;
