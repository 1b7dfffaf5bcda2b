package com.scratchgpt.api;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.scratchgpt.GptProperties;
import com.scratchgpt.ServedModel;
import com.scratchgpt.generation.FinishReason;
import com.scratchgpt.generation.GenerationRequest;
import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.generation.GenerationService;
import com.scratchgpt.generation.TokenListener;
import com.scratchgpt.generation.TokenLogprob;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.annotation.PreDestroy;
import tools.jackson.databind.JsonNode;

/**
 * The OpenAI completions API ({@code /v1/completions}, {@code /v1/models}), so that OpenAI client
 * libraries work unchanged. There is one model; the request's {@code model} is echoed, not matched.
 */
@RestController
@RequestMapping("/v1")
@Tag(name = "OpenAI-compatible")
class OpenAiController {

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
            @Schema(description = "Completions per prompt", example = "1") Integer n,
            @Schema(example = "false") Boolean stream,
            @JsonProperty("stream_options") JsonNode streamOptions) {
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Choice(String text, int index, Logprobs logprobs, @JsonProperty("finish_reason") String finishReason) {
    }

    record Logprobs(List<String> tokens, @JsonProperty("token_logprobs") List<Double> tokenLogprobs,
                    @JsonProperty("top_logprobs") List<Map<String, Double>> topLogprobs,
                    @JsonProperty("text_offset") List<Integer> textOffset) {
    }

    record Usage(@JsonProperty("prompt_tokens") int promptTokens,
                 @JsonProperty("completion_tokens") int completionTokens,
                 @JsonProperty("total_tokens") int totalTokens) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Completion(String id, String object, long created, String model, List<Choice> choices, Usage usage) {
    }

    record ModelCard(String id, String object, long created, @JsonProperty("owned_by") String ownedBy) {
    }

    record ModelList(String object, List<ModelCard> data) {
    }

    static final int MAX_PROMPTS = 16;
    static final int MAX_N = 8;

    private final GenerationService generation;
    private final GPT2Tokenizer tokenizer;
    private final GptProperties properties;
    private final String modelId;
    private final long started = System.currentTimeMillis() / 1000;
    private final ExecutorService streams = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "openai-stream");
        t.setDaemon(true);
        return t;
    });

    OpenAiController(GenerationService generation, GPT2Tokenizer tokenizer, GptProperties properties,
                     ServedModel served) {
        this.generation = generation;
        this.tokenizer = tokenizer;
        this.properties = properties;
        this.modelId = served.id();
    }

    @Operation(summary = "The served model, as OpenAI lists models")
    @GetMapping("/models")
    ModelList models() {
        return new ModelList("list", List.of(new ModelCard(modelId, "model", started, "scratchgpt")));
    }

    @Operation(summary = "OpenAI-compatible text completion (plain or streamed with stream: true)")
    @PostMapping(path = "/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    Object completions(@io.swagger.v3.oas.annotations.parameters.RequestBody(content = @io.swagger.v3.oas.annotations.media.Content(
            examples = @io.swagger.v3.oas.annotations.media.ExampleObject(name = "greedy completion",
                    value = "{\"model\": \"gpt2-small\", \"prompt\": \"Hello, I am\", \"max_tokens\": 6, \"temperature\": 0}")))
            @RequestBody CompletionRequest body) {
        List<String> promptTexts = new ArrayList<>();
        List<GenerationRequest> requests = toRequests(body, promptTexts);
        String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = System.currentTimeMillis() / 1000;
        String model = body.model() != null ? body.model() : modelId;
        boolean echo = Boolean.TRUE.equals(body.echo());
        int n = requests.size() / promptTexts.size();
        if (Boolean.TRUE.equals(body.stream())) {
            return stream(body, requests, promptTexts, n, id, created, model, echo);
        }
        List<CompletableFuture<GenerationResult>> futures = submitAll(requests, i -> (k, t, s) -> { });
        List<Choice> choices = new ArrayList<>();
        int promptTokens = 0;
        int completionTokens = 0;
        for (int i = 0; i < futures.size(); i++) {
            GenerationResult r;
            try {
                r = join(futures.get(i));
            } catch (RuntimeException e) {
                cancelAll(futures); // the other choices would only be computed for nobody
                throw e;
            }
            String prefix = echo ? promptTexts.get(i / n) : "";
            choices.add(new Choice(prefix + r.generatedText(), i, logprobs(r, prefix.length()), finishReason(r.finishReason())));
            promptTokens += i % n == 0 ? r.promptTokens().length : 0;
            completionTokens += r.generatedTokens().length;
        }
        return new Completion(id, "text_completion", created, model, choices,
                new Usage(promptTokens, completionTokens, promptTokens + completionTokens));
    }

    private SseEmitter stream(CompletionRequest body, List<GenerationRequest> requests, List<String> promptTexts,
                              int n, String id, long created, String model, boolean echo) {
        BlockingQueue<Completion> chunks = new LinkedBlockingQueue<>();
        if (echo) {
            for (int i = 0; i < requests.size(); i++) {
                chunks.add(chunk(id, created, model, new Choice(promptTexts.get(i / n), i, null, null)));
            }
        }
        List<CompletableFuture<GenerationResult>> futures = submitAll(requests, index -> (k, token, text) -> {
            if (!text.isEmpty()) {
                chunks.add(chunk(id, created, model, new Choice(text, index, null, null)));
            }
        });
        boolean includeUsage = body.streamOptions() != null && body.streamOptions().path("include_usage").asBoolean(false);
        SseEmitter emitter = new SseEmitter(properties.generation().timeout().toMillis() + 10_000);
        emitter.onError(e -> cancelAll(futures));
        emitter.onTimeout(() -> cancelAll(futures));
        CompletableFuture<Void> all = CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
        streams.execute(() -> {
            try {
                ServerSentEvents.drain(chunks, all, emitter, null);
                int promptTokens = 0;
                int completionTokens = 0;
                for (int i = 0; i < futures.size(); i++) {
                    GenerationResult r = futures.get(i).join();
                    emitter.send(SseEmitter.event().data(chunk(id, created, model,
                            new Choice("", i, null, finishReason(r.finishReason()))), MediaType.APPLICATION_JSON));
                    promptTokens += i % n == 0 ? r.promptTokens().length : 0;
                    completionTokens += r.generatedTokens().length;
                }
                if (includeUsage) {
                    emitter.send(SseEmitter.event().data(new Completion(id, "text_completion", created, model, List.of(),
                            new Usage(promptTokens, completionTokens, promptTokens + completionTokens)),
                            MediaType.APPLICATION_JSON));
                }
                emitter.send(SseEmitter.event().data("[DONE]"));
                emitter.complete();
            } catch (IOException | IllegalStateException | CompletionException e) {
                cancelAll(futures);
                emitter.completeWithError(e);
            } catch (InterruptedException e) {
                cancelAll(futures);
                Thread.currentThread().interrupt();
                emitter.complete();
            }
        });
        return emitter;
    }

    /** Submits every choice's request; if one is refused, those already queued are cancelled. */
    private List<CompletableFuture<GenerationResult>> submitAll(List<GenerationRequest> requests,
                                                                java.util.function.IntFunction<TokenListener> listeners) {
        List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
        try {
            for (int i = 0; i < requests.size(); i++) {
                futures.add(generation.submit(requests.get(i), listeners.apply(i)));
            }
        } catch (RuntimeException e) {
            cancelAll(futures);
            throw e;
        }
        return futures;
    }

    /** Ends every choice's generation; those already done are left as they are. */
    private static void cancelAll(List<CompletableFuture<GenerationResult>> futures) {
        futures.forEach(f -> f.cancel(true));
    }

    private static Completion chunk(String id, long created, String model, Choice choice) {
        return new Completion(id, "text_completion", created, model, List.of(choice), null);
    }

    /** Each prompt n times, validated by the same rules as /generate, with OpenAI's field names in errors. */
    private List<GenerationRequest> toRequests(CompletionRequest body, List<String> promptTexts) {
        int n = body.n() == null ? 1 : body.n();
        if (n < 1 || n > MAX_N) {
            throw new InvalidFieldException("n", "must be between 1 and " + MAX_N + ", got " + n);
        }
        if (Boolean.TRUE.equals(body.echo()) && body.logprobs() != null) {
            throw new InvalidFieldException("echo", "echo with logprobs is not supported: prompt tokens get no log-probabilities here");
        }
        List<GenerateRequest> prompts = prompts(body);
        List<GenerationRequest> requests = new ArrayList<>();
        for (GenerateRequest p : prompts) {
            GenerationRequest r;
            try {
                r = p.toGenerationRequest(tokenizer, properties.generation().maxNewTokens());
            } catch (InvalidFieldException e) {
                throw e.renamed(OPENAI_NAMES.getOrDefault(e.field(), e.field()));
            }
            promptTexts.add(p.prompt() != null ? p.prompt() : tokenizer.decode(r.promptTokens()));
            for (int i = 0; i < n; i++) {
                Long seed = r.seed() == null ? null : r.seed() + i;
                requests.add(new GenerationRequest(r.promptTokens(), r.maxNewTokens(), r.temperature(), r.topK(),
                        r.topP(), seed, r.stop(), r.logprobs()));
            }
        }
        return requests;
    }

    private static final Map<String, String> OPENAI_NAMES = Map.of("promptTokens", "prompt",
            "maxNewTokens", "max_tokens", "topP", "top_p", "topK", "top_k");

    private List<GenerateRequest> prompts(CompletionRequest body) {
        JsonNode p = body.prompt();
        List<JsonNode> items = new ArrayList<>();
        if (p == null || p.isNull()) {
            throw new InvalidFieldException("prompt", "is required");
        } else if (p.isString() || (p.isArray() && !p.isEmpty() && p.get(0).isNumber())) {
            items.add(p);
        } else if (p.isArray() && !p.isEmpty()) {
            p.forEach(items::add);
        } else {
            throw new InvalidFieldException("prompt", "must be a string, an array of strings, an array of token ids, or an array of those");
        }
        if (items.size() > MAX_PROMPTS) {
            throw new InvalidFieldException("prompt", "at most " + MAX_PROMPTS + " prompts, got " + items.size());
        }
        List<String> stops = stops(body.stop());
        double temperature = body.temperature() == null ? 1.0 : body.temperature();
        int maxTokens = body.maxTokens() == null ? 16 : body.maxTokens();
        List<GenerateRequest> out = new ArrayList<>();
        for (JsonNode item : items) {
            String text = null;
            int[] ids = null;
            if (item.isString()) {
                text = item.asString();
            } else if (item.isArray()) {
                ids = new int[item.size()];
                for (int i = 0; i < ids.length; i++) {
                    if (!item.get(i).isIntegralNumber() || !item.get(i).canConvertToInt()) {
                        throw new InvalidFieldException("prompt", "token arrays must hold integers");
                    }
                    ids[i] = item.get(i).asInt();
                }
            } else {
                throw new InvalidFieldException("prompt", "each prompt must be a string or an array of token ids");
            }
            out.add(new GenerateRequest(text, ids, maxTokens, temperature, body.topK(), body.topP(), body.seed(),
                    stops, body.logprobs()));
        }
        return out;
    }

    private static List<String> stops(JsonNode stop) {
        if (stop == null || stop.isNull()) {
            return List.of();
        }
        if (stop.isString()) {
            return List.of(stop.asString());
        }
        if (stop.isArray()) {
            List<String> out = new ArrayList<>();
            for (JsonNode s : stop) {
                if (!s.isString()) {
                    throw new InvalidFieldException("stop", "must be a string or an array of strings");
                }
                out.add(s.asString());
            }
            return out;
        }
        throw new InvalidFieldException("stop", "must be a string or an array of strings");
    }

    private static Logprobs logprobs(GenerationResult r, int offset) {
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

    /** OpenAI reports the end-of-text token as "stop". */
    private static String finishReason(FinishReason reason) {
        return reason == FinishReason.LENGTH ? "length" : "stop";
    }

    private static GenerationResult join(CompletableFuture<GenerationResult> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    @PreDestroy
    void stopStreams() {
        streams.shutdown();
    }
}
