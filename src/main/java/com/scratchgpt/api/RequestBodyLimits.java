package com.scratchgpt.api;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.MediaType;
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
 * Reads a request body whole, within limits, when the endpoint first asks for it: a body over {@link #MAX_BYTES} is
 * refused with {@link BodyTooLarge} (413), by its Content-Length before any of it is read, a chunked one as soon as
 * it passes the limit; a JSON body that is not UTF-8 is refused with {@link NotUtf8} (400), overlong forms and
 * encoded surrogates included, which the JSON reader would let through. ProblemHandler answers both.
 */
@Component
@Order(Ordered.LOWEST_PRECEDENCE) // after RequestBodyDeadline has read the body ahead
class RequestBodyLimits extends OncePerRequestFilter {

    static final int MAX_BYTES = 1024 * 1024;

    /** A request body over the limit; its message says by how much. */
    static final class BodyTooLarge extends IOException {
        BodyTooLarge(String message) {
            super(message);
        }
    }

    /** A JSON body whose bytes are not UTF-8; its message says where. */
    static final class NotUtf8 extends IOException {
        NotUtf8(String message) {
            super(message);
        }
    }

    @Override
    protected boolean shouldNotFilterAsyncDispatch() {
        return false; // RequestBodyDeadline dispatches again with the body it read ahead
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        chain.doFilter(new HttpServletRequestWrapper(request) {
            private ServletInputStream body;

            @Override
            public ServletInputStream getInputStream() throws IOException {
                if (body == null) {
                    body = new Read(read(request));
                }
                return body;
            }
        }, response);
    }

    private static byte[] read(HttpServletRequest request) throws IOException {
        long announced = request.getContentLengthLong();
        if (announced > MAX_BYTES) {
            throw new BodyTooLarge(announced + " bytes exceed the limit of " + MAX_BYTES + " bytes");
        }
        byte[] bytes = request.getInputStream().readNBytes(MAX_BYTES + 1);
        if (bytes.length > MAX_BYTES) {
            throw new BodyTooLarge("exceeds the limit of " + MAX_BYTES + " bytes");
        }
        if (utf8Json(request.getContentType())) {
            checkUtf8(bytes);
        }
        return bytes;
    }

    /** JSON is UTF-8 (RFC 8259) unless the client names another charset, which the JSON reader then decodes. */
    private static boolean utf8Json(String contentType) {
        try {
            MediaType type = MediaType.parseMediaType(contentType);
            return (type.getSubtype().equals("json") || type.getSubtype().endsWith("+json"))
                    && (type.getCharset() == null || type.getCharset().equals(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) { // InvalidMediaTypeException, or no Content-Type
            return false;
        }
    }

    private static void checkUtf8(byte[] bytes) throws NotUtf8 {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(8192);
        for (CoderResult result = decoder.decode(in, out, true); !result.isUnderflow(); result = decoder.decode(in, out, true)) {
            if (result.isError()) {
                throw new NotUtf8("is not valid UTF-8 at byte " + (in.position() + 1));
            }
            out.clear();
        }
    }

    /** The body as read, served to the endpoint from memory. */
    private static final class Read extends ServletInputStream {
        private final ByteArrayInputStream in;

        Read(byte[] bytes) {
            this.in = new ByteArrayInputStream(bytes);
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            return in.read(buffer, offset, length);
        }

        @Override
        public boolean isFinished() {
            return in.available() == 0;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new IllegalStateException("request bodies are read blocking");
        }
    }
}
