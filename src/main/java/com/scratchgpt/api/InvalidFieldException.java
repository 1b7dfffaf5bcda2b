package com.scratchgpt.api;

/** A request field with a value the API refuses; answered as 400 naming the field. */
class InvalidFieldException extends RuntimeException {

    private final String field;

    InvalidFieldException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
    }

    String field() {
        return field;
    }
}
