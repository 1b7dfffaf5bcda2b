package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/** What every error answer must be: an RFC 9457 problem in UTF-8 JSON whose words are the client's, not Java's. */
final class ProblemAssertions {

    /** Java types, packages, Jackson's features and token names, servlet internals: none belongs in a detail. */
    static final Pattern JAVA_WORDS = Pattern.compile("java\\.|jakarta\\.|tools\\.jackson|com\\.fasterxml|org\\.apache"
            + "|springframework|Exception|\\bclass\\b|START_|END_|VALUE_|FAIL_ON|DeserializationFeature|JsonToken"
            + "|CoercionConfig|StreamReadConstraints|`int`|`long`|\\bInteger\\b|\\bDouble\\b|\\bLong\\b|\\bString\\b"
            + "|\\bBoolean\\b|\\bint\\[]|ArrayList|\\tat ");

    private ProblemAssertions() {
    }

    /** The response is a problem with this status whose detail speaks the client's language; returns its body. */
    static JsonNode assertProblem(HttpTestClient.Response r, int status) {
        assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
        assertProblemJson(r.contentType(), r.body());
        JsonNode problem = r.json();
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        return problem;
    }

    /** A problem+json content type in UTF-8 and a body that is a problem with a title and a Java-free detail. */
    static void assertProblemJson(String contentType, String body) {
        assertThat(contentType.toLowerCase().replace(" ", "")).as("content type of %s", body)
                .isEqualTo("application/problem+json;charset=utf-8");
        JsonNode problem = HttpTestClient.parse(body);
        assertThat(problem.get("title").asString()).as(body).isNotBlank();
        assertThat(problem.get("detail").asString()).as(body).isNotBlank().doesNotContainPattern(JAVA_WORDS);
        assertThat(body).doesNotContain("\tat ").doesNotContain("Exception");
    }
}
