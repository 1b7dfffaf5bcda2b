package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.AttackContext;
import com.scratchgpt.HttpTestClient;
import com.scratchgpt.IdleScheduler;
import com.scratchgpt.generation.BatchScheduler;

/**
 * One request asking for the whole KV cache (OpenAI's n 8, 1024 tokens each) holds only its share of it
 * and of the generation slots (a quarter by default: 1 of 4 slots, 1024 of 4096 positions here); its other
 * choices wait their turn, and a newcomer is served ahead of them.
 */
@AttackContext
@ExtendWith(IdleScheduler.class)
class PoolHogTest {

    static final String HOG = "{\"prompt\": \"Hello, I am\", \"max_tokens\": 1024, \"n\": 8, \"temperature\": 0, \"stream\": true}";
    static final String PROBE = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}";

    @LocalServerPort
    int port;
    @Autowired
    BatchScheduler scheduler;

    @AfterEach
    void theSlotsAndTheKvCacheAreFreeAgain() {
        await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.running() == 0 && scheduler.waiting() == 0
                && scheduler.kvCacheUsed() == 0);
    }

    @Test
    void aRequestHoldsItsShareWhileANewcomerIsServedAheadOfItsWaitingChoices() throws Exception {
        HttpTestClient http = new HttpTestClient(port);
        try (HttpTestClient.EventStream hog = http.stream("/v1/completions", HOG)) {
            assertThat(hog.response().statusCode()).isEqualTo(200);
            assertThat(hog.next()).isNotNull();
            assertThat(scheduler.running()).as("choices generating").isEqualTo(1);
            assertThat(scheduler.kvCacheUsed()).as("KV-cache positions held").isLessThanOrEqualTo(1024);
            assertThat(scheduler.waiting()).as("choices waiting their turn").isEqualTo(7);

            var probe = http.postJson("/generate", PROBE);

            assertThat(probe.status()).isEqualTo(200);
            assertThat(probe.json().get("generatedText").asString()).isEqualTo(" Featureiman Byeswickattribute argue");
            assertThat(scheduler.running() + scheduler.waiting()).as("none of the eight choices has finished").isEqualTo(8);
        }
    }
}
