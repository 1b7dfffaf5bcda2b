/**
 * Reading weights: safetensors and PyTorch .pth files (whose pickle is read, never run) behind one
 * TensorFile, the two checkpoint layouts (the seeds' names and Hugging Face GPT-2's) and their
 * config.json forms, mapped onto the model's parameters. Knows nothing of HTTP or generation.
 */
package com.scratchgpt.weights;
