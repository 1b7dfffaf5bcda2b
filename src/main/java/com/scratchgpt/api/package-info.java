/**
 * The HTTP API: controllers, request and response records, validation, RFC 9457 errors and the
 * server-sent-event streams.
 * Talks to generation, tokenizer and model metadata; knows nothing of ND4J.
 */
package com.scratchgpt.api;
