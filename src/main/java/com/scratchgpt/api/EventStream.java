package com.scratchgpt.api;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import com.scratchgpt.GptProperties;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.GenerationService;

/**
 * The one way generations are streamed as server-sent events (/generate/stream, /v1/completions with
 * {@code stream: true}). The scheduler's thread only queues events; one relay thread per stream writes
 * them, so the scheduler never waits on a slow client. Every stream opens with the comment {@code :accepted},
 * which sends the status and headers at once, even while the generations wait for a slot. Every stream
 * ends in one of these ways:
 * <ul>
 * <li>all generations finish: the endpoint's closing events;</li>
 * <li>one fails (its deadline passed, or the service is shutting down): one {@code error} event whose data is
 *     the RFC 9457 problem (503; 500 for a failed model step) the failure would have answered before the
 *     stream began, carrying OpenAI's {@code error} object on /v1 paths; the other generations are cancelled;</li>
 * <li>the client goes away (a failed send, or the container's error, timeout or completion callback): every
 *     generation is cancelled, so the scheduler frees its KV cache at its next step, with one debug line;</li>
 * </ul>
 * then the endpoint's last event if it has one (OpenAI's {@code [DONE]}), and the stream closes. A request
 * the scheduler refuses (429) throws before any stream begins and is answered as a plain problem.
 * <p>
 * On shutdown, streams get the web server's graceful phase to finish; those still open after it are ended
 * here, with the shutdown's {@code error} event, before the web server stops and drops their connections.
 */
@Component
class EventStream implements SmartLifecycle, DisposableBean {

    /**
     * One server-sent event: its name (null for an unnamed event, as OpenAI sends them) and its data,
     * written as JSON, or as is when it is a String (OpenAI's {@code [DONE]} is not JSON).
     */
    record Event(String name, Object data) {

        static Event named(String name, Object data) {
            return new Event(name, data);
        }

        static Event unnamed(Object data) {
            return new Event(null, data);
        }
    }

    /** What an endpoint sends on its stream; the error event is the stream's own. */
    interface Feed {

        /** Events sent before any token (OpenAI's echoed prompts). */
        default List<Event> opening() {
            return List.of();
        }

        /** The event for text that generation {@code generation} made final, or null to send nothing. */
        Event token(int generation, int index, int token, String text);

        /** The events that end a stream whose generations all finished, given their results in order. */
        List<Event> closing(List<GenerationResult> results);

        /** The event that ends the stream after the closing or the error event; null for none. */
        default Event last() {
            return null;
        }
    }

    private static final Logger log = LoggerFactory.getLogger(EventStream.class);

    /**
     * The comment every stream opens with, which sends the response's status and headers at once: a
     * stream waiting for a slot is seen accepted (200) at once, not at its first token. SSE clients skip
     * comments.
     */
    private static final String ACCEPTED = "accepted";

    /** Put on a stream's queue once every generation has ended: nothing after it is sent. */
    private static final Event END = new Event(null, null);

    private static final String SHUTTING_DOWN = "the service is shutting down";

    /** How long shutdown waits for the streams it ends to send their error event. */
    private static final long SHUTDOWN_SEND_MILLIS = 5_000;

    /** A stream being relayed: its generations, and a future completed when its relay has finished. */
    private record Open(Generations generations, CompletableFuture<Void> relayed) {
    }

    private final GenerationService generation;
    private final long timeoutMillis;
    private final ExecutorService relays = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "event-stream");
        t.setDaemon(true);
        return t;
    });
    private final Set<Open> open = ConcurrentHashMap.newKeySet();
    private volatile boolean running;

    EventStream(GenerationService generation, GptProperties properties) {
        this.generation = generation;
        this.timeoutMillis = Generations.answerTimeoutMillis(properties.generation().timeout());
    }

    /**
     * Starts the requests' generations and streams them to the current request's client. Throws
     * OverloadedException (429) before any event when the scheduler refuses one of them.
     */
    SseEmitter open(List<GenerationRequest> requests, Feed feed) {
        String path = ServletUriComponentsBuilder.fromCurrentRequestUri().build().getPath();
        BlockingQueue<Event> events = new LinkedBlockingQueue<>(feed.opening());
        // the listeners run on the scheduler's thread: they only queue
        Generations generations = Generations.submit(generation, requests, i -> (index, token, text) -> {
            Event event = feed.token(i, index, token, text);
            if (event != null) {
                events.add(event);
            }
        });
        generations.whenEnded(() -> events.add(END));
        SseEmitter emitter = new SseEmitter(timeoutMillis);
        emitter.onCompletion(() -> generations.cancel("the stream completed"));
        emitter.onTimeout(() -> generations.cancel("the stream timed out"));
        emitter.onError(e -> generations.cancel("the client went away"));
        Open stream = new Open(generations, new CompletableFuture<>());
        open.add(stream);
        try {
            relays.execute(() -> {
                try {
                    relay(events, generations, feed, emitter, path);
                } finally {
                    open.remove(stream);
                    stream.relayed().complete(null);
                }
            });
        } catch (RejectedExecutionException e) {
            open.remove(stream);
            generations.cancel(SHUTTING_DOWN);
            throw new CancellationException(SHUTTING_DOWN);
        }
        return emitter;
    }

    /** Sends each queued event as it comes, then the ending; a send that fails means the client went away. */
    private static void relay(BlockingQueue<Event> events, Generations generations, Feed feed, SseEmitter emitter,
                              String path) {
        try {
            emitter.send(SseEmitter.event().comment(ACCEPTED));
            for (Event event = events.take(); event != END; event = events.take()) {
                send(emitter, event);
            }
            for (Event event : ending(generations, feed, path)) {
                send(emitter, event);
            }
            if (feed.last() != null) {
                send(emitter, feed.last());
            }
            emitter.complete();
        } catch (IOException | IllegalStateException e) {
            generations.cancel("the client went away");
            log.debug("{}: the client went away, generation cancelled ({})", path, e.toString());
        } catch (InterruptedException e) {
            generations.cancel(SHUTTING_DOWN);
            Thread.currentThread().interrupt();
            emitter.complete();
        }
    }

    /** The closing events when every generation finished, else the error event of the first that did not. */
    private static List<Event> ending(Generations generations, Feed feed, String path) {
        List<GenerationResult> results;
        try {
            results = generations.join();
        } catch (RuntimeException e) {
            return List.of(Event.named("error", ProblemHandler.streamed(e, path)));
        }
        return feed.closing(results);
    }

    private static void send(SseEmitter emitter, Event event) throws IOException {
        SseEmitter.SseEventBuilder builder = event.name() == null ? SseEmitter.event() : SseEmitter.event().name(event.name());
        emitter.send(event.data() instanceof String text ? builder.data(text) : builder.data(event.data(), MediaType.APPLICATION_JSON));
    }

    /**
     * Runs after the web server's graceful phase and before it stops: the streams still open get their
     * shutdown error event while their connections are still there.
     */
    @Override
    public int getPhase() {
        return WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE - 512;
    }

    @Override
    public void start() {
        running = true;
    }

    /** Ends every open stream with the shutdown's error event, and waits (a little) for them to be sent. */
    @Override
    public void stop() {
        running = false;
        List<Open> ending = List.copyOf(open);
        ending.forEach(stream -> stream.generations().cancel(SHUTTING_DOWN));
        try {
            CompletableFuture.allOf(ending.stream().map(Open::relayed).toArray(CompletableFuture[]::new))
                    .get(SHUTDOWN_SEND_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.info("{} streams were still sending when shutdown went on", open.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public void destroy() {
        relays.shutdown();
    }
}
