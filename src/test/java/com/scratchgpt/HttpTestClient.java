package com.scratchgpt;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Real HTTP against the running test server. */
public final class HttpTestClient {

    /** An answer: its body as sent ({@code bytes}) and decoded as UTF-8 ({@code body}). */
    public record Response(int status, String contentType, String body, byte[] bytes, HttpResponse<byte[]> raw) {
        public JsonNode json() {
            return JSON.readTree(body);
        }
    }

    /** One server-sent event as read off the wire: its name (null when unnamed) and its data. */
    public record Event(String name, String data) {
        public JsonNode json() {
            return JSON.readTree(data);
        }
    }

    /** A response read event by event as it arrives; closing it is the client going away. */
    public static final class EventStream implements AutoCloseable {
        private final HttpResponse<InputStream> response;
        private final BufferedReader reader;

        EventStream(HttpResponse<InputStream> response) {
            this.response = response;
            this.reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
        }

        public HttpResponse<InputStream> response() {
            return response;
        }

        /** The next event, or null when the server has closed the stream. */
        public Event next() throws IOException {
            String name = null;
            StringBuilder data = null;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.isEmpty() && data != null) {
                    return new Event(name, data.toString());
                } else if (line.startsWith("event:")) {
                    name = value(line);
                } else if (line.startsWith("data:")) {
                    data = data == null ? new StringBuilder() : data.append('\n');
                    data.append(value(line));
                }
            }
            return null;
        }

        /** A field's value: after the colon, less one space if there is one (the SSE rule). */
        private static String value(String line) {
            String v = line.substring(line.indexOf(':') + 1);
            return v.startsWith(" ") ? v.substring(1) : v;
        }

        /** Reads events until one named {@code name}; fails if the stream ends first. */
        public Event nextNamed(String name) throws IOException {
            for (Event e = next(); e != null; e = next()) {
                if (name.equals(e.name())) {
                    return e;
                }
            }
            throw new AssertionError("the stream ended before a " + name + " event");
        }

        @Override
        public void close() throws IOException {
            response.body().close();
        }
    }

    static final JsonMapper JSON = JsonMapper.builder().build();
    /**
     * One client for every test: a client of its own per request costs a selector thread and a connection each,
     * which made a 4xx answer take 3 times as long (27 to 60 ms against 11 to 16 on two loaded cores).
     */
    private static final HttpClient SHARED = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final HttpClient client = SHARED;
    private final String base;

    public HttpTestClient(int port) {
        this.base = "http://localhost:" + port;
    }

    /** Parses a JSON document, such as one server-sent event's data. */
    public static JsonNode parse(String json) {
        return JSON.readTree(json);
    }

    public Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    public Response postJson(String path, String body) {
        return post(path, "application/json", body);
    }

    /** POSTs JSON without waiting for the answer: a request that holds the server while the test goes on. */
    public CompletableFuture<Response> postJsonAsync(String path, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).thenApply(HttpTestClient::response);
    }

    public Response post(String path, String contentType, String body) {
        return post(path, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** POSTs these bytes as they are, valid UTF-8 or not. */
    public Response post(String path, String contentType, byte[] body) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    /** POSTs JSON asking for text/event-stream and returns as soon as the headers are in. */
    public EventStream stream(String path, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .header("Accept", "text/event-stream").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        try {
            return new EventStream(client.send(request, HttpResponse.BodyHandlers.ofInputStream()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Response response(HttpResponse<byte[]> r) {
        return new Response(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""),
                new String(r.body(), StandardCharsets.UTF_8), r.body(), r);
    }

    private Response send(HttpRequest.Builder builder) {
        try {
            return response(client.send(builder.timeout(Duration.ofSeconds(120)).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
