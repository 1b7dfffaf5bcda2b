package com.scratchgpt.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.TokenLogprob;

import io.swagger.v3.oas.annotations.media.Schema;

/** Body of a POST /generate answer, and of the stream's final {@code done} event; its {@code token} events. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerateResponse(
        @Schema(description = "Prompt + continuation, decoded", example = "Hello, I am Featureiman Byeswickattribute argue")
        String text,
        @Schema(description = "The continuation only", example = " Featureiman Byeswickattribute argue")
        String generatedText,
        @Schema(description = "Generated token ids", example = "[27018, 24086, 47843, 30961, 42348, 7267]")
        int[] generatedTokens,
        @Schema(description = "length, stop or eos", example = "length", allowableValues = {"length", "stop", "eos"})
        String finishReason,
        Usage usage,
        @Schema(description = "Per generated token, when asked for")
        List<TokenLogprob> logprobs) {

    /** Token counts of the request. */
    public record Usage(@Schema(example = "4") int promptTokens, @Schema(example = "6") int generatedTokens) {
    }

    /** The data of one {@code token} event of /generate/stream. */
    public record Token(@Schema(example = "0") int index, @Schema(example = "27018") int token,
                        @Schema(example = " Feature") String text) {
    }

    static GenerateResponse of(GenerationResult r, String promptText) {
        return new GenerateResponse(promptText + r.generatedText(), r.generatedText(), r.generatedTokens(),
                r.finishReason().value(), new Usage(r.promptTokens().length, r.generatedTokens().length), r.logprobs());
    }
}
