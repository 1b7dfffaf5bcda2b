package com.scratchgpt.api;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import com.scratchgpt.generation.DeadlineExceededException;
import com.scratchgpt.generation.OverloadedException;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.DatabindException;

/**
 * The one error handler: every failure becomes an RFC 9457 problem (application/problem+json) with
 * status, title and a detail naming the field and what was wrong. Never a stack trace.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(InvalidFieldException.class)
    ResponseEntity<Object> invalidField(InvalidFieldException e, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
        problem.setTitle("Invalid request");
        problem.setProperty("field", e.field());
        return createResponseEntity(problem, new HttpHeaders(), HttpStatus.BAD_REQUEST, request);
    }

    @ExceptionHandler(OverloadedException.class)
    ResponseEntity<Object> overloaded(OverloadedException e, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS, e.getMessage());
        problem.setTitle("Too many requests");
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, String.valueOf(e.retryAfterSeconds()));
        return createResponseEntity(problem, headers, HttpStatus.TOO_MANY_REQUESTS, request);
    }

    @ExceptionHandler(DeadlineExceededException.class)
    ResponseEntity<Object> deadline(DeadlineExceededException e, WebRequest request) {
        return createResponseEntity(endedEarly(e), retryAfterOneSecond(), HttpStatus.SERVICE_UNAVAILABLE, request);
    }

    @ExceptionHandler(CancellationException.class)
    ResponseEntity<Object> cancelled(CancellationException e, WebRequest request) {
        return createResponseEntity(endedEarly(e), retryAfterOneSecond(), HttpStatus.SERVICE_UNAVAILABLE, request);
    }

    /**
     * The problem of a generation that ended without its result: 503 for a deadline or a cancellation
     * (shutdown), 500 for a failure of the server's own (already logged by the scheduler).
     */
    static ProblemDetail endedEarly(Throwable failure) {
        if (failure instanceof DeadlineExceededException) {
            ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, failure.getMessage());
            problem.setTitle("Deadline exceeded");
            return problem;
        }
        if (failure instanceof CancellationException) {
            ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
                    "generation was cancelled: " + failure.getMessage());
            problem.setTitle("Generation cancelled");
            return problem;
        }
        return internalError();
    }

    /**
     * The data of a stream's {@code error} event: the problem the failure answers before a stream begins,
     * with the same {@code instance} and, on /v1 paths, the same OpenAI {@code error} object.
     */
    static ProblemDetail streamed(Throwable failure, String path) {
        ProblemDetail problem = endedEarly(failure);
        problem.setInstance(URI.create(path));
        addOpenAiError(problem, path);
        return problem;
    }

    private static HttpHeaders retryAfterOneSecond() {
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, "1");
        return headers;
    }

    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers, HttpStatusCode status,
                                                          WebRequest request) {
        if (body instanceof ProblemDetail problem && request instanceof ServletWebRequest web) {
            addOpenAiError(problem, web.getRequest().getRequestURI());
        }
        return super.createResponseEntity(body, headers, status, request);
    }

    /** On /v1 paths a problem also carries OpenAI's error shape under {@code error}, so that OpenAI clients show the message. */
    static void addOpenAiError(ProblemDetail problem, String path) {
        if (!path.startsWith("/v1/")) {
            return;
        }
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", problem.getDetail());
        error.put("type", HttpStatusCode.valueOf(problem.getStatus()).is4xxClientError() ? "invalid_request_error" : "server_error");
        error.put("param", problem.getProperties() == null ? null : problem.getProperties().get("field"));
        error.put("code", null);
        problem.setProperty("error", error);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, unreadableDetail(e));
        problem.setTitle("Malformed request body");
        return handleExceptionInternal(e, problem, headers, HttpStatus.BAD_REQUEST, request);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception e, WebRequest request) {
        log.error("Unexpected failure", e);
        return createResponseEntity(internalError(), new HttpHeaders(), HttpStatus.INTERNAL_SERVER_ERROR, request);
    }

    private static ProblemDetail internalError() {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "The server failed to handle this request.");
        problem.setTitle("Internal error");
        problem.setType(URI.create("about:blank"));
        return problem;
    }

    /** Which field was wrong and how, from Jackson's report; the body itself is never echoed. */
    private static String unreadableDetail(HttpMessageNotReadableException e) {
        Throwable cause = e.getCause();
        if (cause instanceof DatabindException d && !d.getPath().isEmpty()) {
            String field = d.getPath().stream()
                    .map(r -> r.getPropertyName() != null ? r.getPropertyName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining(".")).replace(".[", "[");
            return field + ": " + firstLine(d.getOriginalMessage());
        }
        if (cause instanceof JacksonException j) {
            return "malformed JSON: " + firstLine(j.getOriginalMessage());
        }
        if (cause != null && cause.getMessage() != null && cause.getMessage().contains("exceeds")) {
            return cause.getMessage();
        }
        return "the request body is missing or is not valid JSON";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "invalid value";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
