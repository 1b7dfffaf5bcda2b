package com.scratchgpt.generation;

/**
 * The sequences of one request (OpenAI's prompts times {@code n}, or the one of /generate) and what they
 * hold now: the scheduler admits them only within the request's share of the generation slots and of the
 * KV cache ({@link FairQueue}). Guarded by the scheduler's lock.
 */
final class SequenceGroup {

    /** Sequences not ended yet, waiting or running (set when the request is queued). */
    int remaining;
    /** Sequences holding a generation slot. */
    int running;
    /** KV-cache positions those hold. */
    int kvTokens;
}
