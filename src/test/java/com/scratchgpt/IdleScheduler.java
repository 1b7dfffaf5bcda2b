package com.scratchgpt;

import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.test.context.junit.jupiter.SpringExtension;

import com.scratchgpt.generation.BatchScheduler;

/**
 * Starts each test of a class that counts the scheduler's sequences, slots or KV cache
 * ({@code @ExtendWith(IdleScheduler.class)}) once the context's scheduler is idle. The classes of a context run
 * one after another (ContextOrder), so what one leaves generating (a stream a failed test never closed, a
 * generation running on to its deadline) would otherwise be counted by the next.
 */
public final class IdleScheduler implements BeforeEachCallback {

    @Override
    public void beforeEach(ExtensionContext context) {
        BatchScheduler scheduler = SpringExtension.getApplicationContext(context).getBean(BatchScheduler.class);
        await().atMost(Duration.ofSeconds(60)).until(() -> scheduler.running() == 0 && scheduler.waiting() == 0
                && scheduler.kvCacheUsed() == 0);
    }
}
