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
 * /inspect shares generation's slots and queue: with the one slot taken by a generation and no queue, an inspection
 * gets 429 with Retry-After; once the slot is free again it is served. One slot, no queue and a 3 s deadline (the same
 * context as OverloadApiTest). The deadline of a queued inspection is InspectionTest's.
 */
@OverloadContext
@ExtendWith(IdleScheduler.class)
class InspectLimitsTest {

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;

    @Test
    void anInspectionBeyondTheSlotsAndTheQueueGets429ThenIsServedOnceTheSlotIsFree() throws Exception {
        CompletableFuture<HttpTestClient.Response> generation = new HttpTestClient(port).postJsonAsync("/generate",
                "{\"prompt\": \"Hello\", \"maxNewTokens\": 1000}");
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 1);

        var refused = new HttpTestClient(port).postJson("/inspect", "{\"prompt\": \"Hello, I am\"}");
        JsonNode problem = ProblemAssertions.assertProblem(refused, 429);
        assertThat(problem.get("detail").asString()).isEqualTo("the 1 generation slots and 0 queue places are all claimed");
        assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();

        assertThat(generation.get().status()).as("the generation ends at its deadline").isEqualTo(503);
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0);
        var served = new HttpTestClient(port).postJson("/inspect", "{\"prompt\": \"Hello, I am\", \"attention\": false}");
        assertThat(served.status()).as(served.body()).isEqualTo(200);
        assertThat(served.json().get("next").get("top").get(0).get("token").asInt()).isEqualTo(27018);
        assertThat(scheduler.kvCacheUsed()).isZero();
    }
}
