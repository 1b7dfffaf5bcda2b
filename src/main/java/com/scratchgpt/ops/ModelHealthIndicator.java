package com.scratchgpt.ops;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

import com.scratchgpt.ServedModel;

/**
 * The {@code model} health component: UP once the weights are loaded. The service only starts with a
 * complete model, so a running service reports UP with what it serves.
 */
@Component("model")
class ModelHealthIndicator implements HealthIndicator {

    private final ServedModel served;

    ModelHealthIndicator(ServedModel served) {
        this.served = served;
    }

    @Override
    public Health health() {
        return Health.up()
                .withDetail("source", served.source())
                .withDetail("layout", served.layout())
                .withDetail("parameters", served.model().parameterCount())
                .build();
    }
}
