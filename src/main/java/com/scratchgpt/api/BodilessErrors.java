package com.scratchgpt.api;

import java.io.IOException;
import java.io.PrintWriter;

import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;

/**
 * An error status answered without a body, as the actuator answers an unknown metric or health component, becomes
 * the container's error, which /error ({@link ErrorPage}) answers with a problem like every other error.
 */
@Component
class BodilessErrors extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Watched watched = new Watched(response);
        chain.doFilter(request, watched);
        if (!watched.bodyStarted && response.getStatus() >= 400 && !response.isCommitted() && !request.isAsyncStarted()) {
            response.sendError(response.getStatus());
        }
    }

    /** Notes whether a body was begun, and holds back the flush of an error that has none. */
    private static final class Watched extends HttpServletResponseWrapper {
        private boolean bodyStarted;

        Watched(HttpServletResponse response) {
            super(response);
        }

        @Override
        public ServletOutputStream getOutputStream() throws IOException {
            bodyStarted = true;
            return super.getOutputStream();
        }

        @Override
        public PrintWriter getWriter() throws IOException {
            bodyStarted = true;
            return super.getWriter();
        }

        @Override
        public void flushBuffer() throws IOException {
            if (bodyStarted || getStatus() < 400) {
                super.flushBuffer();
            }
        }
    }
}
