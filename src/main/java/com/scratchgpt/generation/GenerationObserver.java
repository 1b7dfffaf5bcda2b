package com.scratchgpt.generation;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;

/**
 * What generation reports while it runs, for whoever measures it: generation publishes, it does not
 * know who listens. Called on the scheduler's thread or a caller's: implementations must be quick and
 * must not block.
 */
public interface GenerationObserver {

    GenerationObserver NONE = new GenerationObserver() { };

    /** How a request ended without a result. */
    enum Failure {
        DEADLINE, CANCELLED, OVERLOADED, ERROR;

        /** What a request's future failed with, as a failure (overload is refused before there is a future). */
        static Failure of(Throwable error) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof DeadlineExceededException) {
                return DEADLINE;
            }
            return cause instanceof CancellationException ? CANCELLED : ERROR;
        }

        /** The name metrics publish. */
        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A request left the queue for a generation slot after waiting this long. */
    default void requestAdmitted(Duration queued) {
    }

    /** One batched forward pass ran these sequences and tokens. */
    default void stepRan(int sequences, int tokens, Duration elapsed) {
    }

    /** A request's first token came this long after it was submitted. */
    default void firstToken(Duration sinceSubmitted) {
    }

    /** A token after the first came this long after the one before. */
    default void interTokenLatency(Duration sincePrevious) {
    }

    /** A request ended with a result. */
    default void requestFinished(Duration elapsed, int promptTokens, int generatedTokens, FinishReason reason) {
    }

    /** A request ended without a result (refused, past its deadline, cancelled, or a failed step). */
    default void requestFailed(Duration elapsed, Failure failure) {
    }
}
