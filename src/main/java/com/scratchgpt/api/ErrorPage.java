package com.scratchgpt.api;

import java.net.URI;
import java.net.URISyntaxException;

import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import tools.jackson.databind.json.JsonMapper;

/**
 * /error, where the container sends the errors nothing else answered: a method it refuses (TRACE: 405), an error
 * status set without a body (the actuator's unknown metric: 404), a filter's failure. Each becomes the same RFC 9457
 * problem as the rest of the API, status from the container's request attributes; hit directly, /error is a 404.
 */
@Hidden
@RestController
class ErrorPage implements ErrorController {

    private final JsonMapper json;

    ErrorPage(JsonMapper json) {
        this.json = json;
    }

    /**
     * The problem as bytes with their length: after a failed read (a bad chunk) Tomcat closes the connection once the
     * error page is written, before the last chunk of a chunked answer.
     */
    @RequestMapping("${server.error.path:/error}")
    ResponseEntity<byte[]> error(HttpServletRequest request) {
        HttpStatus status = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE) instanceof Integer code
                ? HttpStatus.resolve(code) : null;
        String path = (String) request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        if (status == null || path == null) {
            status = HttpStatus.NOT_FOUND;
            path = request.getRequestURI();
        }
        // the error dispatch itself may be a GET: the client's method is among the error attributes
        String method = request.getAttribute(RequestDispatcher.ERROR_METHOD) instanceof String m ? m : request.getMethod();
        boolean bodyUnread = request.getAttribute(RequestBodyDeadline.BODY_UNREAD) != null;
        if (bodyUnread) { // the client's fault, which Tomcat reports as a failure of its own
            status = HttpStatus.BAD_REQUEST;
        }
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status,
                bodyUnread ? "request body: could not be read to its end" : detail(status, method));
        problem.setTitle(bodyUnread ? "Malformed request body" : status.getReasonPhrase());
        problem.setInstance(instance(path));
        ProblemHandler.addOpenAiError(problem, path);
        byte[] body = json.writeValueAsBytes(problem);
        return ResponseEntity.status(status).contentType(ProblemHandler.PROBLEM_JSON).contentLength(body.length).body(body);
    }

    private static String detail(HttpStatus status, String method) {
        return switch (status) {
            case NOT_FOUND -> "nothing is served at this path";
            case METHOD_NOT_ALLOWED -> "method " + method + " is not allowed here";
            case BAD_REQUEST -> "the request could not be read";
            default -> status.is5xxServerError() ? "The server failed to handle this request." : status.getReasonPhrase();
        };
    }

    /** The path the client asked for, when it is a URI at all. */
    private static URI instance(String path) {
        try {
            return new URI(path);
        } catch (URISyntaxException e) {
            return null;
        }
    }
}
