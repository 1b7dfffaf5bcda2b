package com.scratchgpt;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * How every test waits with Awaitility: the condition checked at once, then every 20 ms, instead of first after
 * 100 ms and then every 100 ms (Awaitility's defaults), so that a wait for a state that is already there, or
 * comes within milliseconds, does not cost a tenth of a second each time. Registered for every test class
 * through JUnit's extension auto-detection ({@code junit-platform.properties},
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension}).
 */
public final class AwaitDefaults implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultPollInterval(Duration.ofMillis(20));
    }
}
