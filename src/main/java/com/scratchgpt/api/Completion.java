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
import com.scratchgpt.tokenizer.GPT2Tokenizer;

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

        /**
         * A choice's log-probabilities in OpenAI's columns; null when not asked for. With {@code scoredPrompt} (echo:
         * the result of the choice's prompt that scored it), the prompt's tokens come first, the first with null
         * log-probabilities since nothing predicts it; then the result's generated tokens, whose text starts at
         * {@code generatedOffset} of the choice's text. Each offset is where the token's text starts in the choice's text.
         */
        static Logprobs of(GenerationResult r, GenerationResult scoredPrompt, int generatedOffset, GPT2Tokenizer tokenizer) {
            if (r.logprobs() == null) {
                return null;
            }
            Logprobs out = new Logprobs(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            if (scoredPrompt != null && scoredPrompt.promptLogprobs() != null) {
                int[] prompt = scoredPrompt.promptTokens();
                int[] offsets = tokenizer.textOffsets(prompt);
                out.tokens.add(tokenizer.tokenText(prompt[0]));
                out.tokenLogprobs.add(null);
                out.topLogprobs.add(null);
                out.textOffset.add(offsets[0]);
                for (int i = 1; i < prompt.length; i++) {
                    out.add(scoredPrompt.promptLogprobs().get(i - 1), offsets[i]);
                }
            }
            int[] offsets = tokenizer.textOffsets(r.generatedTokens());
            for (int i = 0; i < offsets.length; i++) {
                out.add(r.logprobs().get(i), generatedOffset + offsets[i]);
            }
            return out;
        }

        private void add(TokenLogprob lp, int offset) {
            tokens.add(lp.text());
            tokenLogprobs.add(lp.logprob());
            Map<String, Double> top = new LinkedHashMap<>();
            lp.top().forEach(a -> top.putIfAbsent(a.text(), a.logprob()));
            topLogprobs.add(top);
            textOffset.add(offset);
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
