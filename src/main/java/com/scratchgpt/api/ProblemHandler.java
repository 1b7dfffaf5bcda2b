package com.scratchgpt.api;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.util.DisconnectedClientHelper;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import com.scratchgpt.generation.DeadlineExceededException;
import com.scratchgpt.generation.OverloadedException;

/**
 * The one error handler: every failure becomes an RFC 9457 problem (application/problem+json) with
 * status, title and a detail naming the field and what was wrong. Never a stack trace.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    /** RFC 9457's media type; JSON is UTF-8, and the charset says so to clients that look for it. */
    static final MediaType PROBLEM_JSON = new MediaType(MediaType.APPLICATION_PROBLEM_JSON, StandardCharsets.UTF_8);

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(InvalidFieldException.class)
    ResponseEntity<Object> invalidField(InvalidFieldException e, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
        problem.setTitle("Invalid request");
        problem.setProperty("field", e.field());
        return createResponseEntity(problem, new HttpHeaders(), HttpStatus.BAD_REQUEST, request);
    }

    @ExceptionHandler(ModelNotFoundException.class)
    ResponseEntity<Object> modelNotFound(ModelNotFoundException e, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, e.getMessage());
        problem.setTitle("Model not found");
        problem.setProperty("field", "model");
        problem.setProperty("code", "model_not_found");
        return createResponseEntity(problem, new HttpHeaders(), HttpStatus.NOT_FOUND, request);
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

    /** Every problem leaves as problem+json in UTF-8, with OpenAI's error object on /v1 paths. */
    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers, HttpStatusCode status,
                                                          WebRequest request) {
        if (body instanceof ProblemDetail problem && request instanceof ServletWebRequest web) {
            addOpenAiError(problem, web.getRequest().getRequestURI());
            HttpHeaders problemHeaders = HttpHeaders.copyOf(headers);
            problemHeaders.setContentType(PROBLEM_JSON);
            return super.createResponseEntity(body, problemHeaders, status, request);
        }
        return super.createResponseEntity(body, headers, status, request);
    }

    /**
     * A client that went away cannot be answered: one debug line, not Spring's warning with the exception (the
     * streams' relay reports a streaming client's leaving the same way).
     */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception e, Object body, HttpHeaders headers,
                                                             HttpStatusCode status, WebRequest request) {
        if (clientGone(e)) {
            log.debug("{}: the client went away before its answer was written ({})", path(request), e.toString());
            return null;
        }
        return super.handleExceptionInternal(e, body, headers, status, request);
    }

    private static boolean clientGone(Exception e) {
        return DisconnectedClientHelper.isClientDisconnectedException(e);
    }

    private static String path(WebRequest request) {
        return request instanceof ServletWebRequest web ? web.getRequest().getRequestURI() : request.getDescription(false);
    }

    /** On /v1 paths a problem also carries OpenAI's error shape under {@code error}, so that OpenAI clients show the message. */
    static void addOpenAiError(ProblemDetail problem, String path) {
        if (!path.startsWith("/v1/")) {
            return;
        }
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", problem.getDetail());
        error.put("type", HttpStatusCode.valueOf(problem.getStatus()).is4xxClientError() ? "invalid_request_error" : "server_error");
        Map<String, Object> properties = problem.getProperties() == null ? Map.of() : problem.getProperties();
        error.put("param", properties.get("field"));
        error.put("code", properties.get("code"));
        problem.setProperty("error", error);
    }

    /** An unreadable body: 413 over the size limit, else 400 saying in plain words what was wrong and where. */
    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e, HttpHeaders headers,
                                                                  HttpStatusCode status, WebRequest request) {
        UnreadableBody body = UnreadableBody.of(e);
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(body.fault().status, body.detail());
        problem.setTitle(body.fault().title);
        if (body.field() != null) {
            problem.setProperty("field", body.field());
        }
        return handleExceptionInternal(e, problem, headers, body.fault().status, request);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> unexpected(Exception e, WebRequest request) {
        if (clientGone(e)) {
            log.debug("{}: the client went away before its answer was written ({})", path(request), e.toString());
            return null;
        }
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
}
