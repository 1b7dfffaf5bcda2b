package com.scratchgpt.api;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import com.scratchgpt.GptProperties;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

/** POST /generate and its streaming twin. */
@RestController
@Tag(name = "Generation")
class GenerateController {

    private final GenerationService generation;
    private final GPT2Tokenizer tokenizer;
    private final GptProperties properties;
    private final ExecutorService streams = Executors.newCachedThreadPool();

    GenerateController(GenerationService generation, GPT2Tokenizer tokenizer, GptProperties properties) {
        this.generation = generation;
        this.tokenizer = tokenizer;
        this.properties = properties;
    }

    @Operation(summary = "Continue a prompt",
            description = "Greedy (the seeds' generate_text_simple, with a KV cache) unless temperature > 0.")
    @PostMapping(path = "/generate", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    GenerateResponse generate(@RequestBody GenerateRequest body) {
        GenerationRequest request = body.toGenerationRequest(tokenizer, properties.generation().maxNewTokens());
        GenerationResult result = generation.generate(request, (i, t, s) -> { });
        return GenerateResponse.of(result, promptText(body, request));
    }

    @Operation(summary = "Continue a prompt, streamed as server-sent events",
            description = "One `token` event per generated token ({index, token, text}), then one `done` event "
                    + "carrying the full /generate response.")
    @PostMapping(path = "/generate/stream", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter stream(@RequestBody GenerateRequest body) {
        GenerationRequest request = body.toGenerationRequest(tokenizer, properties.generation().maxNewTokens());
        SseEmitter emitter = new SseEmitter(properties.generation().timeout().toMillis());
        streams.execute(() -> {
            try {
                GenerationResult result = generation.generate(request, (index, token, text) -> {
                    try {
                        emitter.send(SseEmitter.event().name("token")
                                .data(Map.of("index", index, "token", token, "text", text), MediaType.APPLICATION_JSON));
                    } catch (IOException | IllegalStateException e) {
                        throw new CancellationException("client went away"); // stops generation at this token
                    }
                });
                emitter.send(SseEmitter.event().name("done").data(GenerateResponse.of(result, promptText(body, request)),
                        MediaType.APPLICATION_JSON));
                emitter.complete();
            } catch (IOException | IllegalStateException e) {
                emitter.completeWithError(e);
            }
        });
        return emitter;
    }

    private String promptText(GenerateRequest body, GenerationRequest request) {
        return body.prompt() != null ? body.prompt() : tokenizer.decode(request.promptTokens());
    }
}
