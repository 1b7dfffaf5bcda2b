package com.scratchgpt.api;

import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.springframework.http.MediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Relays what the scheduler's thread queues to a client: the scheduler never waits on a slow client,
 * and a failed send (the client went away) surfaces here, on the stream's own thread.
 */
final class ServerSentEvents {

    private ServerSentEvents() {
    }

    /** Sends each queued event as JSON (named {@code name}, or unnamed when null) until {@code until} is done and the queue empty. */
    static void drain(BlockingQueue<?> events, Future<?> until, SseEmitter emitter, String name)
            throws IOException, InterruptedException {
        while (!(until.isDone() && events.isEmpty())) {
            Object event = events.poll(20, TimeUnit.MILLISECONDS);
            if (event != null) {
                SseEmitter.SseEventBuilder builder = name == null ? SseEmitter.event() : SseEmitter.event().name(name);
                emitter.send(builder.data(event, MediaType.APPLICATION_JSON));
            }
        }
    }
}
