package com.scratchgpt.generation;

/** Every generation slot and queue place is taken; answered as 429 with Retry-After. */
public class OverloadedException extends RuntimeException {

    private final long retryAfterSeconds;

    public OverloadedException(String message, long retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
