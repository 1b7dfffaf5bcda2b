package com.scratchgpt.generation;

/** Why generation ended: {@code maxNewTokens} reached, a stop sequence, or the end-of-text token. */
public enum FinishReason {
    LENGTH("length"), STOP("stop"), EOS("eos");

    private final String value;

    FinishReason(String value) {
        this.value = value;
    }

    /** The name users see in responses. */
    public String value() {
        return value;
    }
}
