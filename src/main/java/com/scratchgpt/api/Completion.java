package com.scratchgpt.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.scratchgpt.generation.FinishReason;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.TokenLogprob;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * OpenAI's completion object: the answer to POST /v1/completions, and each chunk of its stream (one
 * choice, no usage; the last chunk with {@code include_usage}: usage, no choices).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {

    static final String OBJECT = "text_completion";

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Choice(String text, int index, Logprobs logprobs, @JsonProperty("finish_reason") String finishReason) {

        /** OpenAI reports the end-of-text token as "stop". */
        static String finishReason(FinishReason reason) {
            return reason == FinishReason.LENGTH ? "length" : "stop";
        }
    }

    record Logprobs(List<String> tokens, @JsonProperty("token_logprobs") List<Double> tokenLogprobs,
                    @JsonProperty("top_logprobs") List<Map<String, Double>> topLogprobs,
                    @JsonProperty("text_offset") List<Integer> textOffset) {

        /** The result's log-probabilities in OpenAI's columns, offsets counted from {@code offset}; null when not asked for. */
        static Logprobs of(GenerationResult r, int offset) {
            if (r.logprobs() == null) {
                return null;
            }
            List<String> tokens = new ArrayList<>();
            List<Double> values = new ArrayList<>();
            List<Map<String, Double>> tops = new ArrayList<>();
            List<Integer> offsets = new ArrayList<>();
            int at = offset;
            for (TokenLogprob lp : r.logprobs()) {
                tokens.add(lp.text());
                values.add(lp.logprob());
                Map<String, Double> top = new LinkedHashMap<>();
                lp.top().forEach(a -> top.putIfAbsent(a.text(), a.logprob()));
                tops.add(top);
                offsets.add(at);
                at += lp.text().length();
            }
            return new Logprobs(tokens, values, tops, offsets);
        }
    }

    /** OpenAI's usage; named apart from /generate's {@code Usage} so that the API document keeps both. */
    @Schema(name = "CompletionUsage")
    record Usage(@JsonProperty("prompt_tokens") int promptTokens,
                 @JsonProperty("completion_tokens") int completionTokens,
                 @JsonProperty("total_tokens") int totalTokens) {

        /** Each prompt's tokens once (not once per choice), every choice's generated tokens. */
        static Usage of(List<GenerationResult> results, CompletionRequest.Choices choices) {
            int prompt = 0;
            int completion = 0;
            for (int i = 0; i < results.size(); i++) {
                prompt += choices.firstOfItsPrompt(i) ? results.get(i).promptTokens().length : 0;
                completion += results.get(i).generatedTokens().length;
            }
            return new Usage(prompt, completion, prompt + completion);
        }
    }
}
