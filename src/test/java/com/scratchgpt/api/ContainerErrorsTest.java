package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.RawHttp;

import tools.jackson.databind.JsonNode;

/**
 * Errors that never reach a controller are problems too: /error itself, unknown actuator paths, methods the
 * container refuses, and requests Tomcat cannot parse (sent over a raw socket, as no client would send them).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ContainerErrorsTest {

    @LocalServerPort
    int port;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "/error",
        "/actuator/health/a/b",
        "/actuator/health/readiness/a/b",
        "/actuator/health/nope",
        "/actuator/metrics/nope",
        "/no/such/thing",
    })
    void pathsThatServeNothingAre404Problems(String path) {
        JsonNode problem = ProblemAssertions.assertProblem(new HttpTestClient(port).get(path), 404);
        assertThat(problem.get("instance").asString()).isEqualTo(path);
    }

    @Test
    void healthPathsThatExistStillAnswer() {
        HttpTestClient http = new HttpTestClient(port);
        assertThat(http.get("/actuator/health/readiness/model").json().get("status").asString()).isEqualTo("UP");
        assertThat(http.get("/actuator/health/model").json().get("status").asString()).isEqualTo("UP");
        assertThat(http.get("/actuator/health/liveness").json().get("status").asString()).isEqualTo("UP");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"TRACE", "PATCH", "DELETE", "PUT", "BREW"})
    void methodsNotServedAre405Problems(String method) {
        RawHttp.Answer answer = RawHttp.send(port, method + " /generate HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assertThat(answer.status()).as(answer.text()).isEqualTo(405);
        ProblemAssertions.assertProblemJson(answer.header("Content-Type"), answer.text());
        assertThat(HttpTestClient.parse(answer.text()).get("detail").asString()).contains(method);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "a URI encoding cut short     | GET /% HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n                     | 400",
        "a bad URI encoding           | GET /generate%zz HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n            | 400",
        "spaces in the target         | GET /a b c HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n                 | 400",
        "braces in the target         | GET /{} HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n                    | 400",
        "an encoded NUL               | GET /a%00b HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n                 | 400",
        "a path above the root        | GET /a/../../b HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n             | 400",
        "no request line at all       | GARBAGE\\r\\n\\r\\n                                                | 400",
        "a header without a colon     | GET /generate HTTP/1.1\\r\\nHost: localhost\\r\\nBad Header\\r\\n\\r\\n  | 400",
        "a control character          | GET /generate HTTP/1.1\\r\\nHost: localhost\\r\\nX-A: \u0001\\r\\n\\r\\n   | 400",
        "no Host header               | GET /generate HTTP/1.1\\r\\n\\r\\n                                 | 400",
        "a Content-Length in words    | POST /generate HTTP/1.1\\r\\nHost: localhost\\r\\nContent-Length: abc\\r\\n\\r\\n | 400",
        "an unknown HTTP version      | GET /generate HTTP/9.9\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n | 505",
    })
    void requestsTomcatCannotParseAreProblemsNotHtml(String what, String request, int status) {
        RawHttp.Answer answer = RawHttp.send(port, request.replace("\\r\\n", "\r\n"));
        assertThat(answer.status()).as(answer.text()).isEqualTo(status);
        ProblemAssertions.assertProblemJson(answer.header("Content-Type"), answer.text());
        assertThat(answer.text()).doesNotContain("<html").doesNotContain("Tomcat");
        assertThat(HttpTestClient.parse(answer.text()).get("status").asInt()).isEqualTo(status);
    }

    @Test
    void aBadChunkedBodyIsAProblem() {
        RawHttp.Answer answer = RawHttp.send(port, "POST /generate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
        assertThat(answer.status()).as(answer.text()).isEqualTo(400);
        ProblemAssertions.assertProblemJson(answer.header("Content-Type"), answer.text());
        assertThat(HttpTestClient.parse(answer.text()).get("title").asString()).isEqualTo("Malformed request body");
    }
}
