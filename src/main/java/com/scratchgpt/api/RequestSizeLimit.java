package com.scratchgpt.api;

import java.io.IOException;

import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Refuses request bodies over {@link #MAX_BYTES}: one whose Content-Length says so before any of it is read, a
 * chunked one as soon as reading passes the limit. Either way the reader gets {@link BodyTooLarge}, which
 * ProblemHandler answers with 413.
 */
@Component
class RequestSizeLimit extends OncePerRequestFilter {

    static final long MAX_BYTES = 1024 * 1024;

    /** A request body over the limit; its message says by how much. */
    static final class BodyTooLarge extends IOException {
        BodyTooLarge(String message) {
            super(message);
        }
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        chain.doFilter(new HttpServletRequestWrapper(request) {
            private ServletInputStream limited;

            @Override
            public ServletInputStream getInputStream() throws IOException {
                if (getContentLengthLong() > MAX_BYTES) {
                    throw new BodyTooLarge(getContentLengthLong() + " bytes exceed the limit of " + MAX_BYTES + " bytes");
                }
                if (limited == null) {
                    limited = new Limited(super.getInputStream());
                }
                return limited;
            }
        }, response);
    }

    /** Counts what is read and fails past the limit. */
    private static final class Limited extends ServletInputStream {
        private final ServletInputStream in;
        private long read;

        Limited(ServletInputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = in.read(buffer, offset, length);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        private void count(int n) throws IOException {
            read += n;
            if (read > MAX_BYTES) {
                throw new BodyTooLarge("exceeds the limit of " + MAX_BYTES + " bytes");
            }
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
