package com.scratchgpt.api;

import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** The one check that token ids sent by a client exist in the vocabulary. */
final class TokenIds {

    private TokenIds() {
    }

    static void check(String field, int[] tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= GPT2Tokenizer.VOCAB_SIZE) {
                throw new InvalidFieldException(field, "token id " + tokens[i] + " at index " + i
                        + " is outside the vocabulary 0.." + (GPT2Tokenizer.VOCAB_SIZE - 1));
            }
        }
    }
}
