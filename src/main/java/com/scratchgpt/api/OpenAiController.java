package com.scratchgpt.api;


import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import com.scratchgpt.ServedModel;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

/**
 * The OpenAI completions API ({@code /v1/completions}, {@code /v1/models}), so that OpenAI client
 * libraries work unchanged. There is one model: a request naming another gets OpenAI's 404
 * {@code model_not_found}; one naming none gets the served model.
 */
@RestController
@RequestMapping("/v1")
@Tag(name = "OpenAI-compatible")
class OpenAiController {

    private final GenerationService generation;
    private final GPT2Tokenizer tokenizer;
    private final EventStream streams;
    private final PlainAnswers answers;
    private final String modelId;
    private final long started = System.currentTimeMillis() / 1000;

    OpenAiController(GenerationService generation, GPT2Tokenizer tokenizer,
                     EventStream streams, PlainAnswers answers, ServedModel served) {
        this.generation = generation;
        this.tokenizer = tokenizer;
        this.streams = streams;
        this.answers = answers;
        this.modelId = served.id();
    }

    @Operation(summary = "The served model, as OpenAI lists models")
    @GetMapping("/models")
    ModelList models() {
        return ModelList.of(modelId, started);
    }

    @Operation(summary = "OpenAI-compatible text completion (plain or streamed with stream: true)",
            description = "With `echo` and `logprobs` (not streamed), each choice's `logprobs` begin with the prompt's "
                    + "tokens, the first with null `token_logprobs` and `top_logprobs`, scored from the logits of the "
                    + "forward pass that reads the prompt; with `max_tokens: 0` that is all (`finish_reason` `length`). "
                    + "The model must then read the prompt in one window: at most its context, one token more with "
                    + "`max_tokens: 0`.\n\n"
                    + "With `stream: true`: unnamed `data:` chunks (the echoed prompts, the text as it comes, one "
                    + "chunk per choice with its `finish_reason`, the usage with `stream_options.include_usage`), "
                    + "then `data: [DONE]`.\n\n"
                    + "How a stream ends otherwise: past `gpt.generation.timeout` (queueing included), or when the "
                    + "service shuts down, the chunks so far are followed by one `error` event whose data is an "
                    + "RFC 9457 problem with status 503 (`title`, `detail`) that also carries OpenAI's `error` "
                    + "object (`message`, `type`, `param`, `code`), so OpenAI clients raise it; then `data: [DONE]` "
                    + "and the stream closes. A request refused because every slot and queue place is taken gets a "
                    + "plain 429 problem with `Retry-After` before any chunk, as do invalid requests (400). A client "
                    + "that disconnects, streamed or not, cancels every choice; their KV cache is freed at the "
                    + "scheduler's next step.")
    @ApiResponse(responseCode = "200", description = "The completion; with stream: true, server-sent events", content = {
            @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = Completion.class)),
            @Content(mediaType = MediaType.TEXT_EVENT_STREAM_VALUE, schema = @Schema(type = "string",
                    example = "data:{\"id\":\"cmpl-...\",\"object\":\"text_completion\",\"choices\":"
                            + "[{\"text\":\" Feature\",\"index\":0}]}\n\ndata:[DONE]\n\n"))})
    @PostMapping(path = "/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    Object completions(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
            examples = {@ExampleObject(name = "greedy completion",
                    value = "{\"model\": \"gpt2-small\", \"prompt\": \"Hello, I am\", \"max_tokens\": 6, \"temperature\": 0}"),
                @ExampleObject(name = "scoring a prompt (echo + logprobs, max_tokens 0)",
                    value = "{\"prompt\": \"Every effort moves you\", \"echo\": true, \"logprobs\": 1, \"max_tokens\": 0, "
                            + "\"temperature\": 0}")}))
            @RequestBody CompletionRequest body) {
        if (body.model() != null && !body.model().equals(modelId)) {
            throw new ModelNotFoundException(modelId);
        }
        CompletionRequest.Choices choices = body.toChoices(tokenizer, generation.limits());
        CompletionReply reply = CompletionReply.to(body, choices, modelId, tokenizer);
        if (body.streamed()) {
            return streams.open(choices.requests(), reply);
        }
        return answers.open(choices.requests(), reply::whole);
    }
}
