package com.scratchgpt.api;

/** A request field with a value the API refuses; answered as 400 naming the field. */
class InvalidFieldException extends RuntimeException {

    private final String field;
    private final String reason;

    InvalidFieldException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
        this.reason = reason;
    }

    String field() {
        return field;
    }

    String reason() {
        return reason;
    }

    /** The same problem under another name for the field (the OpenAI API names fields its own way). */
    InvalidFieldException renamed(String name) {
        return new InvalidFieldException(name, reason);
    }
}
