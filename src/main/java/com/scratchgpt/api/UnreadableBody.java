package com.scratchgpt.api;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.stream.Collectors;

import org.springframework.http.HttpStatus;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.TokenStreamContext;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.JacksonIOException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.exc.UnexpectedEndOfInputException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Why a request body could not be read, in the client's words. Built from Jackson's report, whose own text (Java
 * types, feature and token names) never reaches the client.
 *
 * @param path      the field at fault as the client wrote it, array indexes included ({@code promptTokens[0]},
 *                  {@code stream_options.include_usage}); null when it is the body as a whole
 * @param reason    what was wrong: "must be an integer", "unknown field ...", "is not valid JSON at line 1, column 9"
 * @param fault     what kind of fault that is, which gives the problem's status and title
 */
record UnreadableBody(String path, String reason, Fault fault) {

    enum Fault {
        /** JSON, but not what this endpoint takes. */
        INVALID(HttpStatus.BAD_REQUEST, "Invalid request"),
        /** Not JSON at all. */
        MALFORMED(HttpStatus.BAD_REQUEST, "Malformed request body"),
        /** Over the size limit ({@link RequestBodyLimits}). */
        TOO_LARGE(HttpStatus.CONTENT_TOO_LARGE, "Payload Too Large");

        final HttpStatus status;
        final String title;

        Fault(HttpStatus status, String title) {
            this.status = status;
            this.title = title;
        }
    }

    private static final StreamReadConstraints LIMITS = StreamReadConstraints.defaults();

    /** What the failure to read a body says about the body; {@code failure} is the reader's exception. */
    static UnreadableBody of(Throwable failure) {
        RequestBodyLimits.BodyTooLarge tooLarge = cause(failure, RequestBodyLimits.BodyTooLarge.class);
        if (tooLarge != null) {
            return new UnreadableBody(null, tooLarge.getMessage(), Fault.TOO_LARGE);
        }
        RequestBodyLimits.NotUtf8 notUtf8 = cause(failure, RequestBodyLimits.NotUtf8.class);
        if (notUtf8 != null) {
            return new UnreadableBody(null, notUtf8.getMessage(), Fault.MALFORMED);
        }
        JacksonException json = cause(failure, JacksonException.class);
        if (json == null) {
            // Spring reports a missing body, and the JSON value null, without a cause
            return cause(failure, IOException.class) != null ? unreadToTheEnd()
                    : new UnreadableBody(null, "is missing or null: send a JSON object", Fault.INVALID);
        }
        String path = path(json);
        if (json instanceof UnrecognizedPropertyException unknown) {
            return new UnreadableBody(path, "unknown field; the fields are " + names(unknown.getKnownPropertyIds()),
                    Fault.INVALID);
        }
        if (json instanceof InputCoercionException outOfRange) {
            return new UnreadableBody(path, "must be " + noun(outOfRange.getTargetType()) + " between "
                    + range(outOfRange.getTargetType()), Fault.INVALID);
        }
        if (json instanceof MismatchedInputException mismatch) {
            return mismatch(mismatch, path);
        }
        if (json instanceof StreamConstraintsException) {
            return new UnreadableBody(null, "is larger than this reader takes: at most " + LIMITS.getMaxNestingDepth()
                    + " levels of nesting and numbers of at most " + LIMITS.getMaxNumberLength() + " digits", Fault.MALFORMED);
        }
        if (json instanceof UnexpectedEndOfInputException) {
            return new UnreadableBody(null, "is not valid JSON: it ends before the value is complete"
                    + at(json.getLocation()), Fault.MALFORMED);
        }
        if (json instanceof StreamReadException read) {
            // the parser reports a repeated field only in words; the field is where the parser stands
            if (String.valueOf(json.getOriginalMessage()).startsWith("Duplicate Object property") && read.processor() != null) {
                return new UnreadableBody(contextPath(read.processor().streamReadContext()),
                        "duplicate field: give each field once", Fault.INVALID);
            }
            return new UnreadableBody(path, "is not valid JSON" + at(json.getLocation()), Fault.MALFORMED);
        }
        if (json instanceof JacksonIOException) {
            return unreadToTheEnd();
        }
        return new UnreadableBody(path, "cannot be read as this endpoint's request", Fault.INVALID);
    }

    /** The request field at fault, without array indexes ({@code promptTokens}); null for the whole body. */
    String field() {
        return path == null ? null : path.replaceAll("\\[\\d+]", "");
    }

    /** "promptTokens[0]: must be an integer", "request body: is not valid JSON at line 1, column 9". */
    String detail() {
        return (path == null ? "request body" : path) + ": " + reason;
    }

    /** The connection failed while the body was read (a bad chunk, a client gone). */
    private static UnreadableBody unreadToTheEnd() {
        return new UnreadableBody(null, "could not be read to its end", Fault.MALFORMED);
    }

    /** A value of the wrong shape: which shape was expected, or the body's own fault when no field is named. */
    private static UnreadableBody mismatch(MismatchedInputException mismatch, String path) {
        if (path == null) {
            if (mismatch.getCurrentToken() == null) {
                return new UnreadableBody(null, "is missing or null: send a JSON object", Fault.INVALID);
            }
            // the root value was read whole when a second one follows it
            boolean trailing = mismatch.processor() instanceof JsonParser parser
                    && root(parser.streamReadContext()).getEntryCount() > 1;
            return trailing ? new UnreadableBody(null, "holds more than one JSON value; the second starts"
                    + at(mismatch.getLocation()), Fault.MALFORMED)
                    : new UnreadableBody(null, "must be a JSON object", Fault.INVALID);
        }
        Class<?> type = mismatch.getTargetType();
        if (type != null && type.isArray() && path.endsWith("]")) {
            type = type.getComponentType();
        }
        String expected = "must be " + noun(type);
        return new UnreadableBody(path, mismatch.getCurrentToken() == JsonToken.VALUE_NULL ? expected + ", not null" : expected,
                Fault.INVALID);
    }

    /** The JSON shape a Java type reads from, in words. */
    private static String noun(Class<?> type) {
        if (type == null) {
            return "of another type";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class
                || type == short.class || type == Short.class || type == BigInteger.class) {
            return "an integer";
        }
        if (type == double.class || type == Double.class || type == float.class || type == Float.class
                || type == BigDecimal.class) {
            return "a number";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == int[].class || type == long[].class) {
            return "an array of integers";
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        return "a JSON object";
    }

    private static String range(Class<?> type) {
        return type == long.class || type == Long.class ? Long.MIN_VALUE + " and " + Long.MAX_VALUE
                : Integer.MIN_VALUE + " and " + Integer.MAX_VALUE;
    }

    private static String names(Collection<Object> known) {
        return known == null ? "listed in the API docs"
                : known.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }

    private static String at(TokenStreamLocation location) {
        return location == null || location.getLineNr() < 1 ? ""
                : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    /** The field a reading failure was in, from databind's path; null when the body as a whole is at fault. */
    private static String path(JacksonException e) {
        List<JacksonException.Reference> references = e.getPath();
        if (references.isEmpty()) {
            return null;
        }
        StringBuilder path = new StringBuilder();
        for (JacksonException.Reference r : references) {
            if (r.getPropertyName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(r.getPropertyName());
            } else {
                path.append('[').append(r.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /** The same from the parser's position, for failures the parser reports before databind has a path. */
    private static String contextPath(TokenStreamContext context) {
        Deque<String> parts = new ArrayDeque<>();
        for (TokenStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            parts.addFirst(c.inArray() ? "[" + c.getCurrentIndex() + "]" : "." + c.currentName());
        }
        String path = String.join("", parts);
        return path.startsWith(".") ? path.substring(1) : path.isEmpty() ? null : path;
    }

    private static TokenStreamContext root(TokenStreamContext context) {
        TokenStreamContext root = context;
        while (root.getParent() != null) {
            root = root.getParent();
        }
        return root;
    }

    private static <T extends Throwable> T cause(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
