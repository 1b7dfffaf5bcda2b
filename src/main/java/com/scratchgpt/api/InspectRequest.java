package com.scratchgpt.api;

import java.util.Arrays;
import java.util.stream.IntStream;

import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.RequestLimits;
import com.scratchgpt.generation.InspectionRequest;
import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.media.Schema;

/** Body of POST /inspect. */
@Schema(description = "A prompt (prompt or promptTokens) to run through the model once, and what to show of it")
record InspectRequest(
        @Schema(description = "Text to inspect; exactly one of prompt and promptTokens", example = "Hello, I am")
        String prompt,
        @Schema(description = "Token ids to inspect; exactly one of prompt and promptTokens")
        int[] promptTokens,
        @Schema(description = "Most likely tokens shown per logit-lens cell and for the next token, 1 to 50",
                example = "5", defaultValue = "10", minimum = "1", maximum = "50")
        Integer top,
        @Schema(description = "Return the attention weights", defaultValue = "true")
        Boolean attention,
        @Schema(description = "Return the attention of these layers only (indices from 0); default all")
        int[] layers,
        @Schema(description = "Return the logit lens; false leaves it out and applies the output head only after "
                + "the last block", defaultValue = "true")
        Boolean logitLens,
        @Schema(description = "For next.top[].sampledProb: the sampler's temperature, as /generate takes it; absent "
                + "or 0: greedy", example = "1", minimum = "0", maximum = "100")
        Double temperature,
        @Schema(description = "For sampledProb: sample only among the k most likely tokens", minimum = "1")
        Integer topK,
        @Schema(description = "For sampledProb: sample only among the most likely tokens whose probability reaches p",
                minimum = "0", exclusiveMinimum = true, maximum = "1")
        Double topP) {

    static final int DEFAULT_TOP = 10;
    static final int MAX_TOP = 50;

    /**
     * Checks every field (the prompt and the sampler's settings by /generate's own rules) and turns the request into
     * the engine's form.
     */
    InspectionRequest toInspectionRequest(GPT2Tokenizer tokenizer, int maxTokens, GPTConfig cfg) {
        GenerationRequest r = new GenerateRequest(prompt, promptTokens, 0, temperature, topK, topP, null, null, null)
                .toGenerationRequest(tokenizer, new RequestLimits(0, cfg.contextLength(), 0, 1));
        String promptField = prompt != null ? "prompt" : "promptTokens";
        int length = r.promptTokens().length;
        if (length > maxTokens) {
            throw new InvalidFieldException(promptField, length + " tokens, more than the " + maxTokens
                    + " an inspection takes (gpt.inspect.max-tokens)");
        }
        if (length > cfg.contextLength()) {
            throw new InvalidFieldException(promptField, length + " tokens, more than the model's context of "
                    + cfg.contextLength());
        }
        int shown = top == null ? DEFAULT_TOP : top;
        if (shown < 1 || shown > MAX_TOP) {
            throw new InvalidFieldException("top", "must be between 1 and " + MAX_TOP + ", got " + shown);
        }
        return new InspectionRequest(r.promptTokens(), shown, attentionLayers(cfg.nLayers()), logitLens == null || logitLens,
                r.temperature(), r.topK(), r.topP());
    }

    /** The layers whose attention to return: all, those asked for, or none. */
    private int[] attentionLayers(int nLayers) {
        if (Boolean.FALSE.equals(attention)) {
            if (layers != null) {
                throw new InvalidFieldException("layers", "narrows the attention, which attention: false leaves out");
            }
            return new int[0];
        }
        if (layers == null) {
            return IntStream.range(0, nLayers).toArray();
        }
        if (layers.length == 0) {
            throw new InvalidFieldException("layers", "must name at least one layer; attention: false leaves the attention out");
        }
        boolean[] seen = new boolean[nLayers];
        for (int layer : layers) {
            if (layer < 0 || layer >= nLayers) {
                throw new InvalidFieldException("layers", "layer " + layer + " is not one of the model's 0.." + (nLayers - 1));
            }
            if (seen[layer]) {
                throw new InvalidFieldException("layers", "layer " + layer + " is given twice");
            }
            seen[layer] = true;
        }
        return Arrays.stream(layers).sorted().toArray();
    }
}
