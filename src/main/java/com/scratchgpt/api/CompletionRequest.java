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

/**
 * Body of POST /v1/completions: OpenAI's legacy completions parameters, and {@code top_k}. Those the service does
 * not implement ({@code logit_bias}, {@code presence_penalty}, {@code frequency_penalty}, {@code suffix},
 * {@code best_of}) are taken only with the value that changes nothing, which client libraries often send, and are
 * refused by name otherwise; {@code user} is taken and not used; any other field is refused as unknown.
 */
@Schema(description = "OpenAI completions request")
record CompletionRequest(
        @Schema(description = "The served model's id, as GET /v1/models lists it; absent: that model", example = "gpt2-small")
        String model,
        @Schema(description = "A string, an array of strings, an array of token ids, or an array of such arrays",
                oneOf = {String.class, String[].class, int[].class, int[][].class}, example = "Hello, I am")
        JsonNode prompt,
        @JsonProperty("max_tokens") @Schema(example = "6", defaultValue = "16") Integer maxTokens,
        @Schema(description = "0 for greedy; OpenAI's default is 1", example = "0", defaultValue = "1") Double temperature,
        @JsonProperty("top_p") @Schema(example = "1") Double topP,
        @JsonProperty("top_k") @Schema(description = "Not in OpenAI's API: sample only among the k most likely tokens")
        Integer topK,
        @Schema(description = "A string or up to 4 strings", oneOf = {String.class, String[].class}) JsonNode stop,
        Long seed,
        @Schema(description = "Return this many top log-probabilities per token: 0 to 20 (OpenAI allows up to 5)",
                minimum = "0", maximum = "20")
        Integer logprobs,
        @Schema(description = "Prepend the prompt to each choice's text; with logprobs, the prompt's tokens lead the "
                + "log-probabilities too (the first token's null), as the prompt is scored: with max_tokens 0 only that. "
                + "With logprobs: not streamed, and the prompt at most the model's context (one token more with max_tokens 0)",
                example = "false")
        Boolean echo,
        @Schema(description = "Completions per prompt; prompts x n at most what one request may hold", example = "1")
        Integer n,
        @Schema(example = "false") Boolean stream,
        @JsonProperty("stream_options") StreamOptions streamOptions,
        @Schema(description = "Taken and not used") String user,
        @Schema(description = "Not supported: absent or empty only") String suffix,
        @JsonProperty("best_of") @Schema(description = "Not supported: absent or equal to n only") Integer bestOf,
        @JsonProperty("logit_bias") @Schema(description = "Not supported: absent or {} only") Map<String, Double> logitBias,
        @JsonProperty("presence_penalty") @Schema(description = "Not supported: absent or 0 only") Double presencePenalty,
        @JsonProperty("frequency_penalty") @Schema(description = "Not supported: absent or 0 only") Double frequencyPenalty) {

    /** stream_options: with include_usage, a last chunk with the usage and no choices. */
    record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage) {
    }

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

        /** The first choice of this choice's prompt: the one that scores the prompt when echo asks for its log-probabilities. */
        int firstOfPrompt(int choice) {
            return choice - choice % n;
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

    /** echo with logprobs: the prompt's tokens are scored and reported before the generated ones, as OpenAI did. */
    boolean scoresPrompt() {
        return echoed() && logprobs != null;
    }

    boolean includeUsage() {
        return streamOptions != null && Boolean.TRUE.equals(streamOptions.includeUsage());
    }

    /** Checks every field by the same rules as /generate, naming fields as OpenAI does, and makes each choice's request. */
    Choices toChoices(GPT2Tokenizer tokenizer, RequestLimits limits) {
        int choicesPerPrompt = n == null ? 1 : n;
        if (choicesPerPrompt < 1 || choicesPerPrompt > MAX_N) {
            throw new InvalidFieldException("n", "must be between 1 and " + MAX_N + ", got " + choicesPerPrompt);
        }
        refuseWhatIsNotImplemented(choicesPerPrompt);
        if (scoresPrompt() && streamed()) {
            throw new InvalidFieldException("echo", "echo with logprobs is not streamed: the prompt's log-probabilities come "
                    + "in the whole answer; leave out stream");
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
            // the model reads the prompt (but its last token, when nothing is generated) in one window: past the
            // context the seeds' crop would drop its first tokens before they were read, and they could not be scored
            int scorable = limits.contextLength() + (r.maxNewTokens() == 0 ? 1 : 0);
            if (scoresPrompt() && r.promptTokens().length > scorable) {
                throw new InvalidFieldException("prompt", "echo with logprobs scores the prompt in one window of the model's "
                        + limits.contextLength() + "-token context: at most " + limits.contextLength() + " tokens, or "
                        + (limits.contextLength() + 1) + " with max_tokens 0 (the last is only predicted); this prompt has "
                        + r.promptTokens().length + " tokens");
            }
            promptTexts.add(prompt.prompt() != null ? prompt.prompt() : tokenizer.decode(r.promptTokens()));
            for (int k = 0; k < choicesPerPrompt; k++) {
                Long choiceSeed = r.seed() == null ? null : r.seed() + k;
                // the prompt's log-probabilities are the same for every choice: its first choice computes them
                requests.add(new GenerationRequest(r.promptTokens(), r.maxNewTokens(), r.temperature(), r.topK(),
                        r.topP(), choiceSeed, r.stop(), r.logprobs(), scoresPrompt() && k == 0));
            }
        }
        return new Choices(promptTexts, choicesPerPrompt, requests);
    }

    /** Parameters this service does not implement are refused by name, unless their value changes nothing. */
    private void refuseWhatIsNotImplemented(int choicesPerPrompt) {
        if (logitBias != null && !logitBias.isEmpty()) {
            throw new InvalidFieldException("logit_bias", "is not supported here; leave it out or send {}");
        }
        if (presencePenalty != null && presencePenalty != 0) {
            throw new InvalidFieldException("presence_penalty", "is not supported here; leave it out or send 0");
        }
        if (frequencyPenalty != null && frequencyPenalty != 0) {
            throw new InvalidFieldException("frequency_penalty", "is not supported here; leave it out or send 0");
        }
        if (suffix != null && !suffix.isEmpty()) {
            throw new InvalidFieldException("suffix", "is not supported here: the model only continues text; leave it out");
        }
        if (bestOf != null && bestOf != choicesPerPrompt) {
            throw new InvalidFieldException("best_of", "is not supported here; leave it out or send the same value as n");
        }
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
