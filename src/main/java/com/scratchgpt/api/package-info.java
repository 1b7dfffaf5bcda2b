/**
 * The HTTP API: controllers, request and response records, validation and RFC 9457 errors.
 * Talks to generation, tokenizer and model metadata; knows nothing of ND4J.
 */
package com.scratchgpt.api;
