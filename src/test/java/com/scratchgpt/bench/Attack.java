package com.scratchgpt.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The hostile clients of {@code LoadGenerator --attack NAME}: each attack runs against the service while a
 * short probe request ({@code {"prompt": "Hello, I am", "maxNewTokens": 6}} on /generate, and
 * /actuator/health) is timed, alone first, then during the attack. Every attacker talks raw HTTP over its
 * own sockets, so that it can stop reading, send slowly or go away as a hostile client does.
 */
enum Attack {

    POOL_HOG("pool-hog", "one /v1/completions, n 8, max_tokens 1024 (8 x 1024 KV positions), not streamed") {
        @Override
        Running start(URI base, HttpClient client) throws Exception {
            Socket hog = post(base, "/v1/completions",
                    "{\"prompt\": \"Hello, I am\", \"max_tokens\": 1024, \"n\": 8, \"temperature\": 0}");
            awaitMetric(client, base, RUNNING, 1, Duration.ofMinutes(1));
            Thread.sleep(2_000); // every choice the service lets it hold is admitted and generating
            return new Running(List.of(hog), () -> "");
        }
    },

    PAST_CONTEXT_ONE("past-context-1", "1 stream of a 1030-token prompt, 32 new tokens (every one recomputes the window)") {
        @Override
        Running start(URI base, HttpClient client) throws Exception {
            return pastContextStreams(base, client, 1);
        }
    },

    PAST_CONTEXT("past-context", "8 streams of a 1030-token prompt, 32 new tokens each (every one recomputes the window)") {
        @Override
        Running start(URI base, HttpClient client) throws Exception {
            return pastContextStreams(base, client, 8);
        }
    },

    SLOW_BODIES("slow-bodies", "200 connections sending a 100-byte body one byte every 5 s") {
        @Override
        Running start(URI base, HttpClient client) throws Exception {
            List<Socket> slow = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                Socket s = new Socket(base.getHost(), base.getPort());
                s.getOutputStream().write(("POST /generate HTTP/1.1\r\nHost: " + base.getHost() + "\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                slow.add(s);
            }
            ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
            trickle.scheduleWithFixedDelay(() -> slow.forEach(s -> {
                try {
                    s.getOutputStream().write(' ');
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    // answered and closed by the server
                }
            }), 5, 5, TimeUnit.SECONDS);
            long started = System.nanoTime();
            Thread.sleep(1_000);
            return new Running(slow, () -> {
                trickle.shutdownNow();
                return answeredWithin(slow, started, Duration.ofSeconds(30));
            });
        }
    },

    ABANDONED("abandoned", "16 plain /generate of 1000 tokens, each connection closed once generating") {
        @Override
        Running start(URI base, HttpClient client) throws Exception {
            List<Socket> gone = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                gone.add(post(base, "/generate", "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1000}"));
            }
            awaitMetric(client, base, RUNNING, 16, Duration.ofMinutes(1));
            for (Socket s : gone) {
                s.close();
            }
            Thread.sleep(1_000); // as long as a client takes to send its next request
            return new Running(List.of(), () -> "");
        }
    };

    static final String PROBE = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}";
    static final int PROBES = 5;
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern VALUE = Pattern.compile("\"value\":([0-9.E]+)");
    private static final String RUNNING = "gpt.generation.requests.running";
    private static final String FIRST_TOKENS = "gpt.generation.time.to.first.token";

    final String name;
    final String description;

    Attack(String name, String description) {
        this.name = name;
        this.description = description;
    }

    /** An attack under way: its sockets, and what to report when it stops. */
    record Running(List<Socket> sockets, ReportOnStop report) {
    }

    interface ReportOnStop {
        String stop() throws Exception;
    }

    /** Starts the attack and returns once it is in effect. */
    abstract Running start(URI base, HttpClient client) throws Exception;

    static Attack named(String name) {
        return Arrays.stream(values()).filter(a -> a.name.equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no attack " + name + "; there are " + Arrays.stream(values())
                        .map(a -> a.name).collect(Collectors.joining(", "))));
    }

    /** Prints the table's header, for the rows {@link #run} prints. */
    static void header() {
        System.out.println("| attack | what the attacker sends | probe alone p50 / max (s) | probe during the attack p50 / max (s) "
                + "| probe statuses | /actuator/health during it (s) | the attackers' answers |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
    }

    /** The probe alone, then during the attack; one row of the table. */
    void run(URI base, HttpClient client) throws Exception {
        List<Probe> alone = probes(client, base);
        Running running = start(base, client);
        String answers;
        List<Probe> attacked;
        Probe health;
        try {
            attacked = probes(client, base);
            health = time(client, HttpRequest.newBuilder(base.resolve("/actuator/health")).timeout(PROBE_TIMEOUT).GET().build());
        } finally {
            answers = running.report().stop();
            for (Socket s : running.sockets()) {
                s.close();
            }
        }
        System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", name, description, summary(alone),
                summary(attacked), attacked.stream().map(p -> p.status() == -1 ? "none" : String.valueOf(p.status()))
                        .collect(Collectors.joining(" ")), summary(List.of(health)).split(" / ")[1], answers);
    }

    /** One timed request: its status (-1: no answer within the probe timeout) and seconds. */
    record Probe(int status, double seconds) {
    }

    /** Up to PROBES probes one after another; after one gets no answer, the others would not either. */
    static List<Probe> probes(HttpClient client, URI base) {
        List<Probe> probes = new ArrayList<>();
        while (probes.size() < PROBES && (probes.isEmpty() || probes.get(probes.size() - 1).status() != -1)) {
            probes.add(time(client, HttpRequest.newBuilder(base.resolve("/generate")).timeout(PROBE_TIMEOUT)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(PROBE)).build()));
        }
        return probes;
    }

    /** Median and max of the probes' seconds; a probe without an answer counts as "> timeout". */
    static String summary(List<Probe> probes) {
        List<Double> answered = probes.stream().filter(p -> p.status() != -1).map(Probe::seconds).sorted().toList();
        String max = answered.size() < probes.size() ? "> " + PROBE_TIMEOUT.toSeconds() + " (no answer)"
                : String.format(Locale.ROOT, "%.2f", answered.get(answered.size() - 1));
        String p50 = answered.size() * 2 > probes.size()
                ? String.format(Locale.ROOT, "%.2f", answered.get(probes.size() / 2)) : "> " + PROBE_TIMEOUT.toSeconds();
        return p50 + " / " + max;
    }

    static Probe time(HttpClient client, HttpRequest request) {
        long start = System.nanoTime();
        int status;
        try {
            status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            status = -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            status = -1;
        }
        return new Probe(status, (System.nanoTime() - start) / 1e9);
    }

    /** Streams past the context, once they have read their prompts and generate past it. */
    static Running pastContextStreams(URI base, HttpClient client, int count) throws Exception {
        Random random = new Random(7);
        double firstTokens = metric(client, base, FIRST_TOKENS);
        List<Socket> streams = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String prompt = Arrays.stream(random.ints(1030, 0, 50257).toArray()).mapToObj(String::valueOf)
                    .collect(Collectors.joining(",", "[", "]"));
            streams.add(post(base, "/generate/stream", "{\"promptTokens\": " + prompt + ", \"maxNewTokens\": 32}"));
        }
        // their prompts read (1024 rows each, a minute for eight on a busy machine)
        awaitMetric(client, base, FIRST_TOKENS, firstTokens + count, Duration.ofMinutes(5));
        return new Running(streams, () -> "");
    }

    /** Sends a request on a socket of its own and returns the socket without reading the answer. */
    static Socket post(URI base, String path, String json) throws IOException {
        Socket socket = new Socket(base.getHost(), base.getPort());
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: " + base.getHost() + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return socket;
    }

    /** Waits (at most {@code wait}) until a metric reaches this value. */
    static void awaitMetric(HttpClient client, URI base, String name, double atLeast, Duration wait) throws Exception {
        long end = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < end && metric(client, base, name) < atLeast) {
            Thread.sleep(100);
        }
    }

    /** Waits (at most two minutes) until the service runs nothing, so that the next attack starts afresh. */
    static void awaitIdle(HttpClient client, URI base) throws Exception {
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < end && metric(client, base, RUNNING) > 0) {
            Thread.sleep(500);
        }
    }

    /** A metric's first measurement: a gauge's value, a timer's count. */
    private static double metric(HttpClient client, URI base, String name) throws Exception {
        String metric = client.send(HttpRequest.newBuilder(base.resolve("/actuator/metrics/" + name)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = VALUE.matcher(metric);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** How the slow clients were answered within {@code wait} of the attack's start: status lines, counted. */
    static String answeredWithin(List<Socket> sockets, long startedNanos, Duration wait) throws IOException {
        Map<String, Integer> statuses = new TreeMap<>();
        for (Socket s : sockets) {
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(startedNanos + wait.toNanos() - System.nanoTime()));
            s.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
            String status;
            try {
                InputStream in = s.getInputStream();
                StringBuilder line = new StringBuilder();
                for (int c = in.read(); c >= 0 && c != '\r'; c = in.read()) {
                    line.append((char) c);
                }
                status = line.length() > 12 ? line.substring(9, 12) : "closed";
            } catch (IOException e) {
                status = "none";
            }
            statuses.merge(status, 1, Integer::sum);
        }
        return statuses.entrySet().stream().map(e -> e.getValue() + " x " + e.getKey()).collect(Collectors.joining(", "))
                + " within " + wait.toSeconds() + " s";
    }
}
