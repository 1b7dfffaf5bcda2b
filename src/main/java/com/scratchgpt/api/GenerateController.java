package com.scratchgpt.api;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import com.scratchgpt.GptProperties;
import com.scratchgpt.generation.DeadlineExceededException;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.annotation.PreDestroy;

/** POST /generate and its streaming twin. */
@RestController
@Tag(name = "Generation")
class GenerateController {

    private final GenerationService generation;
    private final GPT2Tokenizer tokenizer;
    private final GptProperties properties;
    private final ExecutorService streams = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "sse-stream");
        t.setDaemon(true);
        return t;
    });

    GenerateController(GenerationService generation, GPT2Tokenizer tokenizer, GptProperties properties) {
        this.generation = generation;
        this.tokenizer = tokenizer;
        this.properties = properties;
    }

    @Operation(summary = "Continue a prompt",
            description = "Greedy (the seeds' generate_text_simple, with a KV cache) unless temperature > 0.")
    @PostMapping(path = "/generate", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    GenerateResponse generate(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @io.swagger.v3.oas.annotations.media.Content(
            examples = @io.swagger.v3.oas.annotations.media.ExampleObject(name = "the book's prompt",
                    value = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}")))
            @RequestBody GenerateRequest body) {
        GenerationRequest request = body.toGenerationRequest(tokenizer, properties.generation().maxNewTokens());
        return GenerateResponse.of(generation.generate(request), promptText(body, request));
    }

    @Operation(summary = "Continue a prompt, streamed as server-sent events",
            description = "One `token` event per generated token ({index, token, text}), then one `done` event "
                    + "carrying the full /generate response (or one `error` event carrying a problem). Text never "
                    + "splits a UTF-8 character and never shows part of a stop sequence.")
    @PostMapping(path = "/generate/stream", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter stream(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @io.swagger.v3.oas.annotations.media.Content(
            examples = @io.swagger.v3.oas.annotations.media.ExampleObject(name = "the book's prompt",
                    value = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}")))
            @RequestBody GenerateRequest body) {
        GenerationRequest request = body.toGenerationRequest(tokenizer, properties.generation().maxNewTokens());
        BlockingQueue<Map<String, Object>> tokens = new LinkedBlockingQueue<>();
        // the listener runs on the scheduler's thread: it only queues, the stream thread does the I/O
        CompletableFuture<GenerationResult> result = generation.submit(request, (index, token, text) -> {
            Map<String, Object> event = new LinkedHashMap<>();
            event.put("index", index);
            event.put("token", token);
            event.put("text", text);
            tokens.add(event);
        });
        SseEmitter emitter = new SseEmitter(properties.generation().timeout().toMillis() + 10_000);
        emitter.onError(e -> result.cancel(true));
        emitter.onTimeout(() -> result.cancel(true));
        streams.execute(() -> relay(tokens, result, emitter, promptText(body, request)));
        return emitter;
    }

    /** Sends each queued token as it comes, then the final response; a failed send cancels the generation. */
    private static void relay(BlockingQueue<Map<String, Object>> tokens, CompletableFuture<GenerationResult> result,
                              SseEmitter emitter, String promptText) {
        try {
            ServerSentEvents.drain(tokens, result, emitter, "token");
            GenerationResult done = result.join();
            emitter.send(SseEmitter.event().name("done").data(GenerateResponse.of(done, promptText),
                    MediaType.APPLICATION_JSON));
            emitter.complete();
        } catch (CompletionException | CancellationException e) {
            sendError(emitter, e.getCause() instanceof DeadlineExceededException d ? d.getMessage() : "generation was cancelled");
        } catch (IOException | IllegalStateException e) { // the client went away
            result.cancel(true);
            emitter.completeWithError(e);
        } catch (InterruptedException e) {
            result.cancel(true);
            Thread.currentThread().interrupt();
            emitter.complete();
        }
    }

    private static void sendError(SseEmitter emitter, String detail) {
        try {
            Map<String, Object> problem = new LinkedHashMap<>();
            problem.put("status", 503);
            problem.put("title", "Generation ended early");
            problem.put("detail", detail);
            emitter.send(SseEmitter.event().name("error").data(problem, MediaType.APPLICATION_JSON));
            emitter.complete();
        } catch (IOException | IllegalStateException e) {
            emitter.completeWithError(e);
        }
    }

    private String promptText(GenerateRequest body, GenerationRequest request) {
        return body.prompt() != null ? body.prompt() : tokenizer.decode(request.promptTokens());
    }

    @PreDestroy
    void stopStreams() {
        streams.shutdown();
    }
}
