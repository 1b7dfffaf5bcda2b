/**
 * GPT-2's byte-pair encoding (jtokkit's r50k_base): text to token ids and back, byte-exact.
 * Knows nothing of the model or HTTP.
 */
package com.scratchgpt.tokenizer;
