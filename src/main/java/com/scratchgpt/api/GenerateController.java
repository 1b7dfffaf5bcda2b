package com.scratchgpt.api;

import java.util.List;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

/** POST /generate and its streaming twin. */
@RestController
@Tag(name = "Generation")
class GenerateController {

    private final GenerationService generation;
    private final GPT2Tokenizer tokenizer;
    private final EventStream streams;
    private final PlainAnswers answers;

    GenerateController(GenerationService generation, GPT2Tokenizer tokenizer, EventStream streams, PlainAnswers answers) {
        this.generation = generation;
        this.tokenizer = tokenizer;
        this.streams = streams;
        this.answers = answers;
    }

    @Operation(summary = "Continue a prompt",
            description = "Greedy (the seeds' generate_text_simple, with a KV cache) unless temperature > 0. "
                    + "A client that closes its connection before the answer cancels its generation.")
    @PostMapping(path = "/generate", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    DeferredResult<GenerateResponse> generate(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
            examples = @ExampleObject(name = "the book's prompt",
                    value = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}")))
            @RequestBody GenerateRequest body) {
        GenerationRequest request = body.toGenerationRequest(tokenizer, generation.limits());
        String promptText = promptText(body, request);
        return answers.open(List.of(request), results -> GenerateResponse.of(results.get(0), promptText));
    }

    @Operation(summary = "Continue a prompt, streamed as server-sent events",
            description = "One `token` event per generated token ({index, token, text}), then one `done` event "
                    + "carrying the full /generate response. Text never splits a UTF-8 character and never shows "
                    + "part of a stop sequence.\n\n"
                    + "How a stream ends otherwise: past `gpt.generation.timeout` (queueing included), or when the "
                    + "service shuts down, the tokens so far are followed by one `error` event whose data is an "
                    + "RFC 9457 problem with status 503 (`title`, `detail`), and the stream closes. A request "
                    + "refused because every slot and queue place is taken gets a plain 429 problem with "
                    + "`Retry-After` before any event, as do invalid requests (400). A client that disconnects "
                    + "cancels its generation; its KV cache is freed at the scheduler's next step.")
    @ApiResponse(responseCode = "200", description = "Server-sent events: `token` events, then `done` (or one `error`)",
            content = @Content(mediaType = MediaType.TEXT_EVENT_STREAM_VALUE, schema = @Schema(type = "string",
                    example = "event:token\ndata:{\"index\":0,\"token\":27018,\"text\":\" Feature\"}\n\n")))
    @PostMapping(path = "/generate/stream", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter stream(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
            examples = @ExampleObject(name = "the book's prompt",
                    value = "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6}")))
            @RequestBody GenerateRequest body) {
        GenerationRequest request = body.toGenerationRequest(tokenizer, generation.limits());
        return streams.open(List.of(request), new TokenEvents(promptText(body, request)));
    }

    /** /generate/stream's events: {@code token} per token, then {@code done} with the /generate response. */
    private record TokenEvents(String promptText) implements EventStream.Feed {

        @Override
        public EventStream.Event token(int generation, int index, int token, String text) {
            return EventStream.Event.named("token", new GenerateResponse.Token(index, token, text));
        }

        @Override
        public List<EventStream.Event> closing(List<GenerationResult> results) {
            return List.of(EventStream.Event.named("done", GenerateResponse.of(results.get(0), promptText)));
        }
    }

    private String promptText(GenerateRequest body, GenerationRequest request) {
        return body.prompt() != null ? body.prompt() : tokenizer.decode(request.promptTokens());
    }
}
