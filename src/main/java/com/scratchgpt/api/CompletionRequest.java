package com.scratchgpt.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.RequestLimits;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/** Body of POST /v1/completions (the fields this service uses; others are ignored). */
@Schema(description = "OpenAI completions request")
record CompletionRequest(
        @Schema(example = "gpt2-small") String model,
        @Schema(description = "A string, an array of strings, an array of token ids, or an array of such arrays",
                example = "Hello, I am") JsonNode prompt,
        @JsonProperty("max_tokens") @Schema(example = "6", defaultValue = "16") Integer maxTokens,
        @Schema(description = "0 for greedy; OpenAI's default is 1", example = "0", defaultValue = "1") Double temperature,
        @JsonProperty("top_p") @Schema(example = "1") Double topP,
        @JsonProperty("top_k") Integer topK,
        @Schema(description = "A string or up to 4 strings") JsonNode stop,
        Long seed,
        @Schema(description = "Return this many top log-probabilities per token (0 to 20)")
        Integer logprobs,
        @Schema(description = "Prepend the prompt to each choice's text", example = "false") Boolean echo,
        @Schema(description = "Completions per prompt; prompts x n at most what one request may hold", example = "1")
        Integer n,
        @Schema(example = "false") Boolean stream,
        @JsonProperty("stream_options") JsonNode streamOptions) {

    static final int MAX_PROMPTS = 16;
    static final int MAX_N = 8;
    static final int DEFAULT_MAX_TOKENS = 16;
    /** OpenAI samples unless told otherwise. */
    static final double DEFAULT_TEMPERATURE = 1.0;

    /** /generate's field names as OpenAI spells them, for errors found by /generate's validation. */
    private static final Map<String, String> OPENAI_NAMES = Map.of("promptTokens", "prompt",
            "maxNewTokens", "max_tokens", "topP", "top_p", "topK", "top_k");

    /**
     * What the engine runs for this request: one generation per choice, {@code n} for each prompt in turn;
     * choice {@code i} continues prompt {@code i / n}.
     *
     * @param promptTexts each prompt's text (decoded when given as token ids), for {@code echo}
     * @param n           choices per prompt
     * @param requests    one per choice; the {@code k}-th choice of a prompt samples with {@code seed + k}
     */
    record Choices(List<String> promptTexts, int n, List<GenerationRequest> requests) {

        String promptText(int choice) {
            return promptTexts.get(choice / n);
        }

        /** Whether this choice is the first of its prompt, which counts the prompt's tokens once in usage. */
        boolean firstOfItsPrompt(int choice) {
            return choice % n == 0;
        }
    }

    boolean streamed() {
        return Boolean.TRUE.equals(stream);
    }

    boolean echoed() {
        return Boolean.TRUE.equals(echo);
    }

    /** stream_options.include_usage: a last chunk with the usage and no choices. */
    boolean includeUsage() {
        return streamOptions != null && streamOptions.path("include_usage").asBoolean(false);
    }

    /** Checks every field by the same rules as /generate, naming fields as OpenAI does, and makes each choice's request. */
    Choices toChoices(GPT2Tokenizer tokenizer, RequestLimits limits) {
        int choicesPerPrompt = n == null ? 1 : n;
        if (choicesPerPrompt < 1 || choicesPerPrompt > MAX_N) {
            throw new InvalidFieldException("n", "must be between 1 and " + MAX_N + ", got " + choicesPerPrompt);
        }
        if (echoed() && logprobs != null) {
            throw new InvalidFieldException("echo", "echo with logprobs is not supported: prompt tokens get no log-probabilities here");
        }
        List<GenerateRequest> prompts = prompts();
        int completions = prompts.size() * choicesPerPrompt;
        if (completions > limits.maxSequences()) {
            // it could never be held whole: refused now, not with 429 on every retry
            throw new InvalidFieldException(choicesPerPrompt > 1 ? "n" : "prompt", prompts.size() + " prompts x n "
                    + choicesPerPrompt + " = " + completions + " completions; one request may hold at most "
                    + limits.maxSequences() + ": its share of the generation slots, the rest waiting in the queue");
        }
        List<String> promptTexts = new ArrayList<>();
        List<GenerationRequest> requests = new ArrayList<>();
        for (GenerateRequest prompt : prompts) {
            GenerationRequest r;
            try {
                r = prompt.toGenerationRequest(tokenizer, limits);
            } catch (InvalidFieldException e) {
                throw e.renamed(OPENAI_NAMES.getOrDefault(e.field(), e.field()));
            }
            promptTexts.add(prompt.prompt() != null ? prompt.prompt() : tokenizer.decode(r.promptTokens()));
            for (int k = 0; k < choicesPerPrompt; k++) {
                Long choiceSeed = r.seed() == null ? null : r.seed() + k;
                requests.add(new GenerationRequest(r.promptTokens(), r.maxNewTokens(), r.temperature(), r.topK(),
                        r.topP(), choiceSeed, r.stop(), r.logprobs()));
            }
        }
        return new Choices(promptTexts, choicesPerPrompt, requests);
    }

    /** Each prompt as a /generate request carrying this request's settings. */
    private List<GenerateRequest> prompts() {
        List<JsonNode> items = new ArrayList<>();
        if (prompt == null || prompt.isNull()) {
            throw new InvalidFieldException("prompt", "is required");
        } else if (prompt.isString() || (prompt.isArray() && !prompt.isEmpty() && prompt.get(0).isNumber())) {
            items.add(prompt);
        } else if (prompt.isArray() && !prompt.isEmpty()) {
            prompt.forEach(items::add);
        } else {
            throw new InvalidFieldException("prompt", "must be a string, an array of strings, an array of token ids, or an array of those");
        }
        if (items.size() > MAX_PROMPTS) {
            throw new InvalidFieldException("prompt", "at most " + MAX_PROMPTS + " prompts, got " + items.size());
        }
        List<String> stops = stops();
        double t = temperature == null ? DEFAULT_TEMPERATURE : temperature;
        int maxNew = maxTokens == null ? DEFAULT_MAX_TOKENS : maxTokens;
        List<GenerateRequest> out = new ArrayList<>();
        for (JsonNode item : items) {
            if (item.isString()) {
                out.add(new GenerateRequest(item.asString(), null, maxNew, t, topK, topP, seed, stops, logprobs));
            } else if (item.isArray()) {
                out.add(new GenerateRequest(null, tokenIds(item), maxNew, t, topK, topP, seed, stops, logprobs));
            } else {
                throw new InvalidFieldException("prompt", "each prompt must be a string or an array of token ids");
            }
        }
        return out;
    }

    private static int[] tokenIds(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!array.get(i).isIntegralNumber() || !array.get(i).canConvertToInt()) {
                throw new InvalidFieldException("prompt", "token arrays must hold integers");
            }
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }

    private List<String> stops() {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        if (stop.isString()) {
            return List.of(stop.asString());
        }
        if (!stop.isArray()) {
            throw new InvalidFieldException("stop", "must be a string or an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : stop) {
            if (!s.isString()) {
                throw new InvalidFieldException("stop", "must be a string or an array of strings");
            }
            out.add(s.asString());
        }
        return out;
    }
}
