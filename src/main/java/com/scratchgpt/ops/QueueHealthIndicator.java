package com.scratchgpt.ops;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

import com.scratchgpt.generation.BatchScheduler;

/**
 * The {@code queue} health component, in the readiness group (not in liveness): OUT_OF_SERVICE while the
 * service is saturated, that is every generation slot is taken and at least three quarters of the queue
 * places (rounded up) are, so that new requests would soon be refused with 429; UP again once it drains
 * below that. A balancer then routes new requests to other replicas while this one finishes its work.
 */
@Component("queue")
class QueueHealthIndicator implements HealthIndicator {

    private final BatchScheduler scheduler;

    QueueHealthIndicator(BatchScheduler scheduler) {
        this.scheduler = scheduler;
    }

    @Override
    public Health health() {
        BatchScheduler.Occupancy o = scheduler.occupancy();
        int threshold = (3 * o.queuePlaces() + 3) / 4;
        boolean saturated = o.slotsClaimed() >= o.slots() && o.queuePlacesTaken() >= threshold;
        return (saturated ? Health.outOfService() : Health.up())
                .withDetail("running", o.running())
                .withDetail("waiting", o.waiting())
                .withDetail("slotsTaken", Math.min(o.slotsClaimed(), o.slots()))
                .withDetail("slots", o.slots())
                .withDetail("queuePlacesTaken", o.queuePlacesTaken())
                .withDetail("queuePlaces", o.queuePlaces())
                .withDetail("outOfServiceFrom", threshold)
                .build();
    }
}
