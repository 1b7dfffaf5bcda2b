package com.scratchgpt.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.AttackContext;
import com.scratchgpt.HttpTestClient;
import com.scratchgpt.IdleScheduler;
import com.scratchgpt.generation.BatchScheduler;

import tools.jackson.databind.JsonNode;

/**
 * Readiness reports saturation, so that a balancer routes around it: OUT_OF_SERVICE (503) while every
 * generation slot is taken and three quarters of the queue places are, UP again once it drains; liveness
 * stays UP all along (4 slots and 8 queue places here).
 */
@AttackContext
@ExtendWith(IdleScheduler.class)
class ReadinessTest {

    static final String LONG = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1000}";
    static final String SEVEN_CHOICES = "{\"prompt\": \"Hello, I am\", \"max_tokens\": 1000, \"n\": 7, \"temperature\": 0, \"stream\": true}";

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;

    @Test
    void readinessIsOutOfServiceWhileTheQueueIsNearlyFullAndUpWhenItDrains() throws Exception {
        HttpTestClient http = new HttpTestClient(port);
        // the attacks of the tests before in this context leave the scheduler at their next steps
        await().atMost(Duration.ofSeconds(60)).until(() -> scheduler.occupancy().slotsClaimed() == 0);
        assertThat(http.get("/actuator/health/readiness").status()).isEqualTo(200);
        List<HttpTestClient.EventStream> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                streams.add(http.stream("/generate/stream", LONG));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> scheduler.running() == 4);
            assertThat(http.get("/actuator/health/readiness").status()).as("slots all taken, queue empty").isEqualTo(200);

            streams.add(http.stream("/v1/completions", SEVEN_CHOICES));
            assertThat(streams.get(4).response().statusCode()).isEqualTo(200);
            assertThat(scheduler.occupancy().waiting()).as("the stream is answered 200 while it waits for a slot")
                    .isEqualTo(7);

            await().atMost(Duration.ofSeconds(10)).until(() -> http.get("/actuator/health/readiness").status() == 503);
            JsonNode body = http.get("/actuator/health/readiness").json();
            assertThat(body.get("status").asString()).isEqualTo("OUT_OF_SERVICE");
            assertThat(body.get("components").get("queue").get("status").asString()).isEqualTo("OUT_OF_SERVICE");
            var liveness = http.get("/actuator/health/liveness");
            assertThat(liveness.status()).isEqualTo(200);
            assertThat(liveness.json().get("status").asString()).isEqualTo("UP");
        } finally {
            for (HttpTestClient.EventStream s : streams) {
                s.close();
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/actuator/health/readiness").status() == 200);
        assertThat(http.get("/actuator/health/readiness").json().get("components").get("queue").get("status").asString())
                .isEqualTo("UP");
    }
}
