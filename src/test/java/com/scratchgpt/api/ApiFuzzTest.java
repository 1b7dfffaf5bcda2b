package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * Random and mutated bodies against every POST endpoint: whatever a client sends, the answer is a
 * success or a 4xx problem, never a 500 or a stack trace. Generation is kept short by the valid seeds (1 or 2
 * tokens; 16, the default, where a mutation nulls the count), so the default context serves them.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ApiFuzzTest {

    static final List<String> ENDPOINTS = List.of("/generate", "/generate/stream", "/tokenize", "/detokenize",
            "/v1/completions", "/inspect");
    static final List<String> SEEDS = List.of(
            "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 2, \"temperature\": 0.5, \"topK\": 5, \"topP\": 0.9, \"seed\": 1, \"stop\": [\"x\"], \"logprobs\": 2}",
            "{\"promptTokens\": [15496, 11, 314], \"maxNewTokens\": 1}",
            "{\"text\": \"Hello\"}",
            "{\"tokens\": [15496, 11]}",
            "{\"model\": \"gpt2-small\", \"prompt\": [\"a\", [1, 2]], \"max_tokens\": 2, \"n\": 2, \"stop\": \"b\", \"echo\": true}",
            "{\"prompt\": \"Hello, I am\", \"top\": 3, \"layers\": [0, 11], \"logitLens\": false, \"temperature\": 0.5, \"topK\": 5, \"topP\": 0.9}",
            "{\"promptTokens\": [15496, 11], \"attention\": false}");
    static final String[] VALUES = {"null", "-1", "0", "1", "2147483648", "-9999999999999", "1e309", "0.5", "true",
            "\"\"", "\"x\"", "[]", "[-1]", "[50257]", "[[]]", "{}", "\"\\u0000\"", "\"\\ud800\"", "[1.5]", "NaN"};

    @LocalServerPort
    int port;

    @Test
    void noBodyEverGetsA500() {
        HttpTestClient http = new HttpTestClient(port);
        Random random = new Random(2024);
        int cases = 600;
        for (int i = 0; i < cases; i++) {
            String endpoint = ENDPOINTS.get(random.nextInt(ENDPOINTS.size()));
            String body = mutate(SEEDS.get(random.nextInt(SEEDS.size())), random);
            var r = http.postJson(endpoint, body);
            assertThat(r.status()).as("%s %s -> %s", endpoint, body, r.body()).isLessThan(500);
            if (r.status() >= 400) {
                ProblemAssertions.assertProblemJson(r.contentType(), r.body());
            }
        }
    }

    @Test
    void anOversizedBodyIsRefused() {
        var r = new HttpTestClient(port).postJson("/tokenize", "{\"text\": \"" + "a".repeat(2 * 1024 * 1024) + "\"}");
        JsonNode problem = ProblemAssertions.assertProblem(r, 413);
        assertThat(problem.get("detail").asString()).isEqualTo("request body: 2097164 bytes exceed the limit of 1048576 bytes");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"/tokenize", "/generate", "/v1/completions"})
    void aChunkedBodyOverTheLimitIs413(String path) throws Exception {
        byte[] body = ("{\"text\": \"" + "a".repeat(2 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(); // no length: chunked
        HttpResponse<String> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).as(r.body()).isEqualTo(413);
        ProblemAssertions.assertProblemJson(r.headers().firstValue("Content-Type").orElse(""), r.body());
        assertThat(HttpTestClient.parse(r.body()).get("detail").asString())
                .isEqualTo("request body: exceeds the limit of 1048576 bytes");
    }

    private static String mutate(String seed, Random random) {
        switch (random.nextInt(6)) {
            case 0: { // replace a value after a colon
                int colon = nthIndex(seed, ':', random);
                if (colon < 0) {
                    return seed;
                }
                int end = colon + 1;
                int depth = 0;
                while (end < seed.length() && !(depth == 0 && (seed.charAt(end) == ',' || seed.charAt(end) == '}'))) {
                    char c = seed.charAt(end);
                    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
                    end++;
                }
                return seed.substring(0, colon + 1) + " " + VALUES[random.nextInt(VALUES.length)] + seed.substring(end);
            }
            case 1: // truncate
                return seed.substring(0, random.nextInt(seed.length()));
            case 2: { // flip a character
                char[] c = seed.toCharArray();
                c[random.nextInt(c.length)] = (char) (32 + random.nextInt(95));
                return new String(c);
            }
            case 3: // random bytes as text
                return new String(random.ints(random.nextInt(64), 0, 256).mapToObj(b -> String.valueOf((char) b))
                        .reduce("", String::concat));
            case 4: // deep nesting
                return "[".repeat(random.nextInt(3000)) + "]".repeat(random.nextInt(3000));
            default: // a valid seed as it is
                return seed;
        }
    }

    private static int nthIndex(String s, char c, Random random) {
        int count = (int) s.chars().filter(ch -> ch == c).count();
        if (count == 0) {
            return -1;
        }
        int target = random.nextInt(count);
        for (int i = 0, seen = 0; i < s.length(); i++) {
            if (s.charAt(i) == c && seen++ == target) {
                return i;
            }
        }
        return -1;
    }
}
