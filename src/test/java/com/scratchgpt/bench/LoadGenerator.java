package com.scratchgpt.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

import com.scratchgpt.ScratchGptApplication;

/**
 * Drives the service over HTTP with N concurrent streaming clients (mixed prompt and output lengths)
 * and reports aggregate generated tokens/s, p50/p99 latency and time to first token; then a flood of
 * 300 requests, 64 at a time, counting every status. Loopback only, bounded in requests and time.
 *
 * <p>Run: {@code ./mvnw -Pbench verify -Dbench.main=com.scratchgpt.bench.LoadGenerator} (starts the
 * service in-process on a free loopback port), or with {@code -Dbench.args="--url http://127.0.0.1:8080"}
 * against a running one. {@code -Dbench.args="--soak 3000"}: a soak of 3000 short requests instead,
 * reporting the resident memory of the serving process as it goes. {@code -Dbench.args="--attack NAME"}: one
 * hostile client's attack ({@code pool-hog}, {@code past-context-1}, {@code past-context}, {@code slow-bodies},
 * {@code abandoned}, or {@code all} in turn) against the service with its default settings, timing a short
 * probe request alone and during the attack ({@link Attack}).
 */
public final class LoadGenerator {

    record Outcome(int status, int tokens, long ttftNanos, long totalNanos) {
    }

    static final Duration MAX_RUN = Duration.ofMinutes(10);
    static final int REQUESTS_PER_CLIENT = 6;

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.stream(String.join(" ", args).trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        String url = a.contains("--url") ? a.get(a.indexOf("--url") + 1) : null;
        String attack = a.contains("--attack") ? a.get(a.indexOf("--attack") + 1) : null;
        ConfigurableApplicationContext app = null;
        if (url == null) {
            // the attacks meet the service as it is configured by default; the load runs batch 32 streams
            String[] settings = attack != null
                    ? new String[] {"--server.port=0", "--server.address=127.0.0.1", "--logging.level.root=WARN"}
                    : new String[] {"--server.port=0", "--server.address=127.0.0.1", "--gpt.generation.max-concurrent=32",
                        "--gpt.generation.max-batch=32", "--gpt.generation.max-queue=64",
                        "--gpt.generation.max-batch-tokens=8192", "--logging.level.root=WARN"};
            app = SpringApplication.run(ScratchGptApplication.class, settings);
            url = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
        }
        String host = URI.create(url).getHost();
        if (!InetAddress.getByName(host).isLoopbackAddress()) {
            throw new IllegalArgumentException("the load generator only targets loopback addresses, not " + host);
        }
        long deadline = System.nanoTime() + MAX_RUN.toNanos();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        if (attack != null) {
            attacks(client, URI.create(url), attack);
            if (app != null) {
                app.close();
            }
            return;
        }
        if (a.contains("--soak")) {
            if (app == null) {
                throw new IllegalArgumentException("--soak measures this process's memory: run it without --url");
            }
            soak(client, url, Integer.parseInt(a.get(a.indexOf("--soak") + 1)), deadline);
            app.close();
            return;
        }
        System.out.println("| clients | requests | errors | generated tokens/s | latency p50 / p99 (s) | time to first token p50 / p99 (s) |");
        System.out.println("| --- | --- | --- | --- | --- | --- |");
        for (int clients : new int[] {1, 4, 16, 32}) {
            if (System.nanoTime() > deadline) {
                break;
            }
            run(client, url, clients, deadline);
        }
        flood(client, url, 300, 64, deadline);
        if (app != null) {
            app.close();
        }
    }

    /** One attack by name, or all of them in turn ("all"), each once the service has drained the one before. */
    static void attacks(HttpClient client, URI base, String name) throws Exception {
        Attack.header();
        for (Attack attack : name.equals("all") ? List.of(Attack.values()) : List.of(Attack.named(name))) {
            Attack.awaitIdle(client, base);
            attack.run(base, client);
        }
    }

    /** Each client sends REQUESTS_PER_CLIENT streamed requests one after another. */
    static void run(HttpClient client, String url, int clients, long deadline) throws InterruptedException {
        List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            Random random = new Random(c * 31L + clients);
            pool.execute(() -> {
                for (int r = 0; r < REQUESTS_PER_CLIENT && System.nanoTime() < deadline; r++) {
                    int promptLength = 16 + random.nextInt(113);   // 16..128 tokens
                    int newTokens = 16 + random.nextInt(113);      // 16..128 tokens
                    outcomes.add(stream(client, url, random.ints(promptLength, 0, 50257).toArray(), newTokens));
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(MAX_RUN.toSeconds(), TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        long errors = outcomes.stream().filter(o -> o.status() != 200).count();
        int tokens = outcomes.stream().mapToInt(Outcome::tokens).sum();
        List<Long> latency = outcomes.stream().filter(o -> o.status() == 200).map(Outcome::totalNanos).sorted().toList();
        List<Long> ttft = outcomes.stream().filter(o -> o.status() == 200).map(Outcome::ttftNanos).sorted().toList();
        System.out.printf(Locale.ROOT, "| %d | %d | %d | %.1f | %.2f / %.2f | %.2f / %.2f |%n", clients, outcomes.size(),
                errors, tokens / seconds, pct(latency, 50), pct(latency, 99), pct(ttft, 50), pct(ttft, 99));
    }

    /** total requests, at most `parallel` in flight: every status is counted, none may be a 5xx or lost. */
    static void flood(HttpClient client, String url, int total, int parallel, long deadline) throws InterruptedException {
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        Random random = new Random(99);
        for (int i = 0; i < total; i++) {
            int[] prompt = random.ints(8 + random.nextInt(32), 0, 50257).toArray();
            int newTokens = 4 + random.nextInt(28);
            pool.execute(() -> {
                int status = System.nanoTime() < deadline ? plain(client, url, prompt, newTokens) : -2;
                statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
            });
        }
        pool.shutdown();
        pool.awaitTermination(MAX_RUN.toSeconds(), TimeUnit.SECONDS);
        int answered = statuses.values().stream().mapToInt(AtomicInteger::get).sum();
        System.out.printf("%nFlood: %d requests, %d at a time: %d answered; statuses %s%n", total, parallel, answered,
                new TreeMap<>(statuses.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get()))));
    }

    /**
     * Many short requests, 8 at a time, streamed and plain: the resident memory of this process (which
     * serves them) after the first tenth and at the end must not grow.
     */
    static void soak(HttpClient client, String url, int total, long deadline) throws Exception {
        Random random = new Random(5);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger failures = new AtomicInteger();
        long[] rss = new long[11];
        for (int tenth = 0; tenth < 10; tenth++) {
            List<java.util.concurrent.Future<?>> batch = new ArrayList<>();
            for (int i = 0; i < total / 10; i++) {
                int[] prompt = random.ints(4 + random.nextInt(60), 0, 50257).toArray();
                int newTokens = 1 + random.nextInt(16);
                boolean streamed = random.nextBoolean();
                batch.add(pool.submit(() -> {
                    int status = System.nanoTime() > deadline ? -2
                            : streamed ? stream(client, url, prompt, newTokens).status() : plain(client, url, prompt, newTokens);
                    if (status != 200) {
                        failures.incrementAndGet();
                    }
                }));
            }
            for (var f : batch) {
                f.get();
            }
            System.gc();
            rss[tenth + 1] = residentKb();
            System.out.printf("soak: %d requests, RSS %d MB%n", (tenth + 1) * (total / 10), rss[tenth + 1] / 1024);
        }
        pool.shutdown();
        System.out.printf("Soak: %d requests, %d failed; RSS after the first tenth %d MB, at the end %d MB (%+d MB)%n",
                total, failures.get(), rss[1] / 1024, rss[10] / 1024, (rss[10] - rss[1]) / 1024);
    }

    static long residentKb() throws java.io.IOException {
        return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmRSS")).findFirst().map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
                .orElse(-1L);
    }

    static Outcome stream(HttpClient client, String url, int[] prompt, int newTokens) {
        long start = System.nanoTime();
        try {
            HttpResponse<java.io.InputStream> response = client.send(request(url + "/generate/stream", prompt, newTokens),
                    HttpResponse.BodyHandlers.ofInputStream());
            long first = 0;
            int tokens = 0;
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    if (line.startsWith("event:token")) {
                        tokens++;
                        if (first == 0) {
                            first = System.nanoTime();
                        }
                    }
                }
            }
            return new Outcome(response.statusCode(), tokens, first - start, System.nanoTime() - start);
        } catch (Exception e) {
            return new Outcome(-1, 0, 0, System.nanoTime() - start);
        }
    }

    static int plain(HttpClient client, String url, int[] prompt, int newTokens) {
        try {
            return client.send(request(url + "/generate", prompt, newTokens), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    static HttpRequest request(String url, int[] prompt, int newTokens) {
        String body = "{\"promptTokens\": " + Arrays.toString(prompt) + ", \"maxNewTokens\": " + newTokens + "}";
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    static double pct(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i))) / 1e9;
    }
}
