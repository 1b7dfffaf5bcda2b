package com.scratchgpt.generation;

/** Told of each generated token as soon as it is chosen; used for streaming. */
@FunctionalInterface
public interface TokenListener {

    TokenListener NONE = (index, token, text) -> { };

    /**
     * @param index position of the token in the continuation, from 0
     * @param token the token id
     * @param text  the text this token makes final: whole UTF-8 characters only, never part of a stop
     *              sequence; may be empty when the token's bytes are held back
     */
    void onToken(int index, int token, String text);
}
