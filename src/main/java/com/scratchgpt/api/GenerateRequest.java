package com.scratchgpt.api;

import java.util.List;

import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.RequestLimits;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.media.Schema;

/** Body of POST /generate and /generate/stream. */
@Schema(description = "Text to continue (prompt or promptTokens) and how")
public record GenerateRequest(
        @Schema(description = "Text to continue; exactly one of prompt and promptTokens", example = "Hello, I am")
        String prompt,
        @Schema(description = "Token ids to continue; exactly one of prompt and promptTokens")
        int[] promptTokens,
        @Schema(description = "Tokens to generate (0 allowed), at most gpt.generation.max-new-tokens, and at most "
                + "gpt.generation.max-tokens-past-context past the model's context", example = "6", defaultValue = "16")
        Integer maxNewTokens,
        @Schema(description = "Absent or 0: greedy (argmax, as the seeds); above 0: sampling", example = "0",
                minimum = "0", maximum = "100")
        Double temperature,
        @Schema(description = "Sample only among the k most likely tokens", minimum = "1")
        Integer topK,
        @Schema(description = "Sample only among the most likely tokens whose probability reaches p",
                minimum = "0", exclusiveMinimum = true, maximum = "1")
        Double topP,
        @Schema(description = "Makes sampling reproducible")
        Long seed,
        @Schema(description = "Up to 4 stop sequences; the output ends before the first one found")
        List<String> stop,
        @Schema(description = "Return each generated token's log-probability and this many top alternatives (0 to 20)",
                minimum = "0", maximum = "20")
        Integer logprobs) {

    static final int DEFAULT_MAX_NEW_TOKENS = 16;
    static final int MAX_STOP_SEQUENCES = 4;
    static final int MAX_STOP_LENGTH = 256;
    static final int MAX_LOGPROBS = 20;
    static final int MAX_PROMPT_TOKENS = 100_000;

    /** Checks every field against its bounds and turns the request into the engine's form. */
    GenerationRequest toGenerationRequest(GPT2Tokenizer tokenizer, RequestLimits limits) {
        if ((prompt == null) == (promptTokens == null)) {
            throw new InvalidFieldException("prompt", "give exactly one of prompt and promptTokens");
        }
        int[] tokens;
        if (prompt != null) {
            if (prompt.length() > MAX_PROMPT_TOKENS * 8) {
                throw new InvalidFieldException("prompt", "longer than " + MAX_PROMPT_TOKENS * 8 + " characters");
            }
            WellFormedText.check("prompt", prompt);
            tokens = tokenizer.encode(prompt);
            if (tokens.length == 0) {
                throw new InvalidFieldException("prompt", "must not be empty");
            }
        } else {
            tokens = promptTokens.clone();
            if (tokens.length == 0) {
                throw new InvalidFieldException("promptTokens", "must hold at least one token id");
            }
            TokenIds.check("promptTokens", tokens);
        }
        if (tokens.length > MAX_PROMPT_TOKENS) {
            throw new InvalidFieldException(prompt != null ? "prompt" : "promptTokens",
                    "more than " + MAX_PROMPT_TOKENS + " tokens");
        }
        int forThisPrompt = limits.maxNewTokens(tokens.length);
        int maxNew = maxNewTokens == null ? Math.min(DEFAULT_MAX_NEW_TOKENS, forThisPrompt) : maxNewTokens;
        if (maxNew < 0 || maxNew > limits.maxNewTokens()) {
            throw new InvalidFieldException("maxNewTokens", "must be between 0 and " + limits.maxNewTokens() + ", got " + maxNew);
        }
        if (maxNew > forThisPrompt) {
            // past the context every token recomputes the whole window: refused now rather than run for minutes
            throw new InvalidFieldException("maxNewTokens", "must be at most " + forThisPrompt + " for a prompt of "
                    + tokens.length + " tokens, got " + maxNew + ": past the model's " + limits.contextLength()
                    + "-token context each new token recomputes the whole window, and at most "
                    + limits.maxTokensPastContext() + " tokens may (gpt.generation.max-tokens-past-context)");
        }
        double t = temperature == null ? 0.0 : temperature;
        if (!(t >= 0.0 && t <= 100.0)) {
            throw new InvalidFieldException("temperature", "must be between 0 and 100, got " + temperature);
        }
        if (topK != null && topK < 1) {
            throw new InvalidFieldException("topK", "must be at least 1, got " + topK);
        }
        if (topP != null && !(topP > 0.0 && topP <= 1.0)) {
            throw new InvalidFieldException("topP", "must be in (0, 1], got " + topP);
        }
        List<String> stops = stop == null ? List.of() : stop;
        if (stops.size() > MAX_STOP_SEQUENCES) {
            throw new InvalidFieldException("stop", "at most " + MAX_STOP_SEQUENCES + " stop sequences, got " + stops.size());
        }
        for (String s : stops) {
            if (s == null || s.isEmpty() || s.length() > MAX_STOP_LENGTH) {
                throw new InvalidFieldException("stop", "each stop sequence must have 1 to " + MAX_STOP_LENGTH + " characters");
            }
            WellFormedText.check("stop", s);
        }
        if (logprobs != null && (logprobs < 0 || logprobs > MAX_LOGPROBS)) {
            throw new InvalidFieldException("logprobs", "must be between 0 and " + MAX_LOGPROBS + ", got " + logprobs);
        }
        return new GenerationRequest(tokens, maxNew, t, topK, topP, seed, stops, logprobs);
    }
}
