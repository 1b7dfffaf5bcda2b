package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.IdleScheduler;
import com.scratchgpt.OverloadContext;
import com.scratchgpt.generation.BatchScheduler;

import tools.jackson.databind.JsonNode;

/**
 * Scoring a prompt (echo with logprobs, max_tokens 0) is work like generating: it takes a generation slot, so with the
 * one slot taken and no queue it gets 429 with Retry-After, and once the slot is free it is served.
 */
@OverloadContext
@ExtendWith(IdleScheduler.class)
class PromptScoringLimitsTest {

    static final String SCORE = "{\"prompt\": \"Hello, I am\", \"echo\": true, \"logprobs\": 1, \"max_tokens\": 0}";

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;

    @Test
    void scoringBeyondTheSlotsAndTheQueueGets429ThenIsServedOnceTheSlotIsFree() throws Exception {
        CompletableFuture<HttpTestClient.Response> generation = new HttpTestClient(port).postJsonAsync("/generate",
                "{\"prompt\": \"Hello\", \"maxNewTokens\": 1000}");
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 1);

        var refused = new HttpTestClient(port).postJson("/v1/completions", SCORE);
        JsonNode problem = ProblemAssertions.assertProblem(refused, 429);
        var generating = new HttpTestClient(port).postJson("/v1/completions", "{\"prompt\": \"Hello, I am\", \"max_tokens\": 1}");
        assertThat(problem.get("detail").asString()).as("refused as a generation is")
                .isEqualTo(ProblemAssertions.assertProblem(generating, 429).get("detail").asString());
        assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();

        assertThat(generation.get().status()).as("the generation ends at its deadline").isEqualTo(503);
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0);
        var served = new HttpTestClient(port).postJson("/v1/completions", SCORE);
        assertThat(served.status()).as(served.body()).isEqualTo(200);
        assertThat(served.json().get("choices").get(0).get("logprobs").get("token_logprobs")).hasSize(4);
        assertThat(scheduler.kvCacheUsed()).isZero();
    }
}
