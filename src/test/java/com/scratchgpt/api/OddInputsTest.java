package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * Odd bodies, each sent to every POST endpoint: values of the wrong JSON type for each field, nested garbage,
 * numbers too large, NaN and Infinity, deep nesting, empty and null bodies, arrays for objects, byte order marks,
 * invalid UTF-8, control characters, lone surrogates. Every one is refused with a 4xx problem in UTF-8 whose detail
 * is free of Java's words and, when a field is at fault, names it first. Nothing is generated, so the default
 * context serves them.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class OddInputsTest {

    static final List<String> ENDPOINTS = ApiFuzzTest.ENDPOINTS;

    /** The fields each endpoint reads. */
    static final Map<String, Set<String>> FIELDS = Map.of(
            "/generate", Set.of("prompt", "promptTokens", "maxNewTokens", "temperature", "topK", "topP", "seed", "stop", "logprobs"),
            "/generate/stream", Set.of("prompt", "promptTokens", "maxNewTokens", "temperature", "topK", "topP", "seed", "stop", "logprobs"),
            "/tokenize", Set.of("text"),
            "/detokenize", Set.of("tokens"),
            "/v1/completions", Set.of("model", "prompt", "max_tokens", "temperature", "top_p", "top_k", "stop", "seed", "logprobs",
                    "echo", "n", "stream", "stream_options", "user", "suffix", "best_of", "logit_bias", "presence_penalty",
                    "frequency_penalty"),
            "/inspect", Set.of("prompt", "promptTokens", "top", "attention", "layers", "logitLens", "temperature", "topK", "topP"));

    /** What a row expects of the problem's {@code field}: this name, none (the body as a whole), or either. */
    private static final String NO_FIELD = "";
    private static final String EITHER = "*";

    /** An odd body and the field at fault on every endpoint. */
    record Row(String name, byte[] body, String field) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Values of the wrong JSON type for fields of each type; one field alone is at fault whichever endpoint reads it. */
    private static final Map<List<String>, List<String>> WRONG_TYPES = Map.of(
            List.of("maxNewTokens", "topK", "seed", "logprobs", "max_tokens", "n", "best_of", "top"),
            List.of("6.5", "\"6\"", "true", "[]", "{}", "99999999999999999999"),
            List.of("temperature", "topP", "top_p", "presence_penalty"),
            List.of("\"0.5\"", "true", "[]", "{}"),
            List.of("text", "model", "user", "suffix"),
            List.of("123", "true", "[]", "{}"),
            List.of("echo", "stream", "attention", "logitLens"),
            List.of("1", "\"true\"", "{}"),
            List.of("promptTokens", "tokens", "layers"),
            List.of("\"abc\"", "1", "{}", "[1.5]", "[true]", "[null]", "[[1]]", "[\"1\"]"),
            List.of("stream_options", "logit_bias"),
            List.of("1", "\"x\"", "[]"),
            List.of("prompt"),
            List.of("123", "true", "{}", "[true]", "[[1.5]]"));

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        WRONG_TYPES.forEach((fields, values) -> fields.forEach(field -> values.forEach(value ->
                rows.add(row("{\"" + field + "\": " + value + "}", field)))));
        rows.add(row("{\"stream_options\": {\"include_usage\": 1}}", "stream_options.include_usage"));
        rows.add(row("{\"stream_options\": {\"obfuscate\": true}}", "stream_options.obfuscate"));
        rows.add(row("{\"logit_bias\": {\"50256\": \"-100\"}}", "logit_bias.50256"));
        rows.add(row("{\"prompt\": \"a\\u0000b\", \"prompt\": \"c\"}", "prompt"));
        rows.add(row("{\"prompt\": \"a\u0001b\"}", "prompt"));
        rows.add(row("{\"prompt\": \"tab\there\"}", "prompt"));
        // bytes that are not UTF-8 are the body's fault, wherever they are
        rows.add(new Row("invalid UTF-8 in a string", bytes("{\"prompt\": \"", new byte[] {(byte) 0xff, 'a'}, "\"}"), NO_FIELD));
        rows.add(new Row("truncated UTF-8 in a string", bytes("{\"prompt\": \"", new byte[] {(byte) 0xc3}, "\"}"), NO_FIELD));
        rows.add(new Row("overlong UTF-8 in a string", bytes("{\"prompt\": \"", new byte[] {(byte) 0xc0, (byte) 0xaf}, "\"}"), NO_FIELD));
        rows.add(new Row("an encoded surrogate in a string",
                bytes("{\"prompt\": \"", new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, "\"}"), NO_FIELD));
        rows.add(row("{\"prompt\": \"\\ud800abc\"}", "prompt"));
        rows.add(row("{\"prompt\": \"abc\\udfff\"}", "prompt"));
        rows.add(row("{\"text\": \"\\udc00\"}", "text"));
        rows.add(row("{\"prompt\": \"\\uZZZZ\"}", "prompt"));
        rows.add(row("{\"topK\": NaN}", EITHER));
        rows.add(row("{\"temperature\": Infinity}", EITHER));
        rows.add(row("{\"temperature\": -Infinity}", EITHER));
        rows.add(row("{\"maxNewTokens\": 1" + "0".repeat(2000) + "}", EITHER));
        rows.add(row("{\"prompt\": " + "[".repeat(3000) + "]".repeat(3000) + "}", EITHER));
        rows.add(row("{\"maxNewTokens\": 1} {}", EITHER));
        rows.add(row("{\"maxNewTokens\": 1}]", EITHER));
        for (String body : List.of("", " ", "null", "[]", "[{}]", "1", "\"x\"", "true", "{", "}", "{\"prompt\"}",
                "{\"prompt\":}", "{,}", "{'prompt':'x'}", "{prompt:1}", "NaN", "Infinity", "{} {}", "{}x", "{}}",
                "[".repeat(5000), "[".repeat(3000) + "]".repeat(3000), "/* comment */ {}", "[1,]", "\u0001{}",
                "{\"prompt\": \"unterminated")) {
            rows.add(row(body, NO_FIELD));
        }
        rows.add(new Row("byte order mark alone", new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, NO_FIELD));
        rows.add(new Row("byte order mark, then a wrong type", bytes("\ufeff{\"topK\": \"1\"}"), "topK"));
        rows.add(new Row("UTF-16 byte order mark, then UTF-8", bytes("", new byte[] {(byte) 0xfe, (byte) 0xff}, "{\"topK\": 1}"), NO_FIELD));
        rows.add(new Row("invalid UTF-8 outside strings", new byte[] {'{', (byte) 0xc3, (byte) 0x28, '}'}, NO_FIELD));
        rows.add(new Row("bytes 0xff 0xfe", new byte[] {(byte) 0xff, (byte) 0xfe, 0, 0}, NO_FIELD));
        rows.add(new Row("NUL bytes", new byte[] {0, 0, 0, 0}, NO_FIELD));
        return rows;
    }

    static Stream<Arguments> everyRowAtEveryEndpoint() {
        return rows().stream().flatMap(row -> ENDPOINTS.stream().map(endpoint -> Arguments.of(endpoint, row)));
    }

    @LocalServerPort
    int port;

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyRowAtEveryEndpoint")
    void anOddBodyIsAPlainProblemNamingTheFieldAtFault(String endpoint, Row row) {
        var r = new HttpTestClient(port).post(endpoint, "application/json", row.body());

        assertThat(r.status()).as("%s -> %s", row, r.body()).isBetween(400, 499);
        ProblemAssertions.assertProblemJson(r.contentType(), r.body());
        JsonNode problem = r.json();
        String detail = problem.get("detail").asString();
        if (problem.has("field")) {
            assertThat(detail).startsWith(problem.get("field").asString());
        }
        if (row.field().equals(NO_FIELD)) {
            assertThat(problem.has("field")).as(detail).isFalse();
        } else if (!row.field().equals(EITHER)) {
            String topLevel = row.field().split("\\.")[0];
            if (FIELDS.get(endpoint).contains(topLevel)) {
                assertThat(problem.has("field")).as(detail).isTrue();
                assertThat(problem.get("field").asString()).as(detail).isEqualTo(row.field());
            } else if (problem.has("field")) {
                // a field this endpoint does not read is refused (unknown, or given twice), unless the body failed first
                assertThat(problem.get("field").asString()).as(detail).isEqualTo(topLevel);
            }
        }
        if (endpoint.startsWith("/v1/")) {
            assertThat(problem.get("error").get("message").asString()).isEqualTo(detail);
            assertThat(problem.get("error").get("param").isNull()).isEqualTo(!problem.has("field"));
        }
    }

    private static Row row(String json, String field) {
        return new Row(json.length() > 60 ? json.substring(0, 57) + "..." : json, bytes(json), field);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String before, byte[] raw, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes(before));
        out.writeBytes(raw);
        out.writeBytes(bytes(after));
        return out.toByteArray();
    }
}
