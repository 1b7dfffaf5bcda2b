package com.scratchgpt.generation;

/** A request outlived gpt.generation.timeout; answered as 503 with Retry-After. */
public class DeadlineExceededException extends RuntimeException {

    public DeadlineExceededException(String message) {
        super(message);
    }
}
