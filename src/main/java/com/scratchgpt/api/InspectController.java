package com.scratchgpt.api;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import com.scratchgpt.GptProperties;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;

/** POST /inspect: one forward pass over a prompt, showing what the model computes. */
@RestController
@Tag(name = "Inspection")
class InspectController {

    private final GenerationService generation;
    private final GPT2Tokenizer tokenizer;
    private final GptProperties properties;
    private final GPTModel model;

    InspectController(GenerationService generation, GPT2Tokenizer tokenizer, GptProperties properties, GPTModel model) {
        this.generation = generation;
        this.tokenizer = tokenizer;
        this.properties = properties;
        this.model = model;
    }

    @Operation(summary = "Run a prompt through the model once and show its attention, logit lens, next token and loss",
            description = "At most gpt.inspect.max-tokens tokens (and the model's context). Runs on the generation "
                    + "scheduler: it takes a generation slot (429 when every slot and queue place is taken) and keeps "
                    + "gpt.generation.timeout (503).")
    @PostMapping(path = "/inspect", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    InspectResponse inspect(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(
            examples = @ExampleObject(name = "the book's prompt",
                    value = "{\"prompt\": \"Hello, I am\", \"top\": 5, \"layers\": [0, 11], \"temperature\": 1.5, \"topK\": 20}")))
            @RequestBody InspectRequest body) {
        return InspectResponse.of(generation.inspect(
                body.toInspectionRequest(tokenizer, properties.inspect().maxTokens(), model.config())));
    }
}
