package com.scratchgpt.api;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import com.scratchgpt.GptProperties;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads each request body before any worker thread needs it, with the servlet's non-blocking I/O, under one
 * deadline for the whole body ({@code gpt.http.body-timeout}): a client sending its body slowly holds a
 * connection, never a worker thread, and is answered 408 once the deadline has passed. With the whole body
 * in, the request goes on down the chain (an asynchronous dispatch) reading the body from memory as it would
 * have from the client; a read that failed (a bad chunk, a client gone) is answered 400 here.
 * Runs before {@link RequestBodyLimits}, which then refuses from memory what is too large or not UTF-8; it holds
 * no more than that limit of a body, and leaves a body announced larger to be refused without being read.
 */
@Component
@Order(Ordered.LOWEST_PRECEDENCE - 1)
class RequestBodyDeadline extends OncePerRequestFilter {

    /** The request attribute holding the body read ahead, for the dispatch that goes on with it. */
    private static final String BODY = RequestBodyDeadline.class.getName() + ".body";
    /** Set on a request whose body could not be read (a bad chunk): what ErrorPage answers 400 for. */
    static final String BODY_UNREAD = RequestBodyDeadline.class.getName() + ".unread";

    private final long timeoutMillis;
    private final JsonMapper json;

    RequestBodyDeadline(GptProperties properties, JsonMapper json) {
        this.timeoutMillis = properties.http().bodyTimeout().toMillis();
        this.json = json;
    }

    /** A body read ahead whole (or just past the size limit, for RequestBodyLimits to refuse). */
    private record ReadAhead(byte[] bytes) {
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return false; // the dispatch after the read goes on with the body read
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getAttribute(BODY) instanceof ReadAhead body) {
            chain.doFilter(new Replayed(request, body), response);
        } else if (isAsyncDispatch(request) || !request.isAsyncSupported() || !hasBody(request)
                || request.getContentLengthLong() > RequestBodyLimits.MAX_BYTES) {
            chain.doFilter(request, response);
        } else {
            AsyncContext async = request.startAsync();
            async.setTimeout(timeoutMillis);
            new BodyReader(request, response, async).start();
        }
    }

    private static boolean hasBody(HttpServletRequest request) {
        return request.getContentLengthLong() > 0 || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null;
    }

    /** Reads one body as its bytes arrive, then dispatches the request on; or answers 408 at the deadline. */
    private final class BodyReader implements ReadListener, AsyncListener {

        private final HttpServletRequest request;
        private final HttpServletResponse response;
        private final AsyncContext async;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final byte[] buffer = new byte[8192];
        private final AtomicBoolean settled = new AtomicBoolean();
        private ServletInputStream in;

        BodyReader(HttpServletRequest request, HttpServletResponse response, AsyncContext async) {
            this.request = request;
            this.response = response;
            this.async = async;
        }

        void start() throws IOException {
            async.addListener(this);
            in = request.getInputStream();
            try {
                in.setReadListener(this); // reads at once what has arrived, and may fail on it
            } catch (RuntimeException e) {
                goOn(new IOException(e));
            }
        }

        @Override
        public void onDataAvailable() {
            if (settled.get()) {
                return; // what follows a body over the limit is never read
            }
            try {
                while (in.isReady()) {
                    int n = in.read(buffer);
                    if (n < 0) {
                        return;
                    }
                    body.write(buffer, 0, n);
                    if (body.size() > RequestBodyLimits.MAX_BYTES) { // enough for RequestBodyLimits to refuse it
                        goOn(null);
                        return;
                    }
                }
            } catch (IOException | RuntimeException e) { // Tomcat's isReady fails on a bad chunk unchecked
                goOn(e instanceof IOException io ? io : new IOException(e));
            }
        }

        @Override
        public void onAllDataRead() {
            goOn(null);
        }

        @Override
        public void onError(Throwable failure) {
            goOn(failure instanceof IOException io ? io : new IOException(failure));
        }

        private void goOn(IOException failure) {
            if (settled.compareAndSet(false, true)) {
                if (failure != null) { // a bad chunk or a client gone: the connection cannot carry on after it
                    request.setAttribute(BODY_UNREAD, failure);
                    answer(HttpStatus.BAD_REQUEST, "Malformed request body", "request body: could not be read to its end");
                    return;
                }
                request.setAttribute(BODY, new ReadAhead(body.toByteArray()));
                async.dispatch();
            }
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            if (settled.compareAndSet(false, true)) {
                long expected = request.getContentLengthLong();
                answer(HttpStatus.REQUEST_TIMEOUT, "Request Timeout", "request body: " + body.size()
                        + (expected > 0 ? " of " + expected : "") + " bytes arrived within " + timeoutMillis
                        + " ms (gpt.http.body-timeout)");
            }
        }

        /** Answers from here, whole, with its length, and closes the connection: the rest of the body is never read. */
        private void answer(HttpStatus status, String title, String detail) {
            String path = request.getRequestURI();
            ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
            problem.setTitle(title);
            problem.setInstance(URI.create(path));
            ProblemHandler.addOpenAiError(problem, path);
            byte[] bytes = json.writeValueAsBytes(problem);
            try {
                response.setStatus(status.value());
                response.setHeader(HttpHeaders.CONNECTION, "close");
                response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
                response.setContentLength(bytes.length);
                response.getOutputStream().write(bytes);
                response.flushBuffer(); // committed: after a failed read Tomcat would otherwise answer 500 over it
            } catch (IOException e) {
                // the client is gone: nobody to answer
            } finally {
                async.complete();
            }
        }

        @Override
        public void onError(AsyncEvent event) {
            goOn(new IOException(event.getThrowable())); // Tomcat reports a bad chunk here before the read listener
        }

        @Override
        public void onComplete(AsyncEvent event) {
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
        }
    }

    /** The request with its body read ahead: read from memory, ending as the read from the client ended. */
    private static final class Replayed extends HttpServletRequestWrapper {

        private final ServletInputStream in;

        Replayed(HttpServletRequest request, ReadAhead body) {
            super(request);
            this.in = new ReplayedBody(body);
        }

        @Override
        public ServletInputStream getInputStream() {
            return in;
        }
    }

    private static final class ReplayedBody extends ServletInputStream {

        private final ByteArrayInputStream bytes;

        ReplayedBody(ReadAhead body) {
            this.bytes = new ByteArrayInputStream(body.bytes());
        }

        @Override
        public int read() {
            return bytes.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            return bytes.read(buffer, offset, length);
        }

        @Override
        public boolean isFinished() {
            return bytes.available() == 0;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new IllegalStateException("the body was read ahead; read it directly");
        }
    }
}
