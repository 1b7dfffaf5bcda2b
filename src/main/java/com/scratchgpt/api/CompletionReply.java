package com.scratchgpt.api;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.scratchgpt.generation.GenerationResult;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * The answer to one POST /v1/completions request, whole or as a stream of chunks, every object with the
 * same {@code id}, {@code created} and {@code model}. As a stream: the echoed prompts, one chunk per piece
 * of text, one closing chunk per choice with its {@code finish_reason}, the usage chunk when asked for,
 * then {@code data: [DONE]}, which also follows the {@code error} event of a stream that ends early (as
 * vLLM does), so that clients reading until {@code [DONE]} stop there.
 */
record CompletionReply(String id, long created, String model, CompletionRequest.Choices choices, boolean echo,
                       boolean includeUsage, GPT2Tokenizer tokenizer) implements EventStream.Feed {

    static CompletionReply to(CompletionRequest request, CompletionRequest.Choices choices, String servedModel,
                              GPT2Tokenizer tokenizer) {
        return new CompletionReply("cmpl-" + UUID.randomUUID().toString().replace("-", ""),
                System.currentTimeMillis() / 1000, servedModel, choices, request.echoed(), request.includeUsage(), tokenizer);
    }

    /**
     * The whole completion: one choice per result, in order. With echo, a choice's log-probabilities begin with its
     * prompt's, scored once by the prompt's first choice.
     */
    Completion whole(List<GenerationResult> results) {
        List<Completion.Choice> out = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            GenerationResult r = results.get(i);
            String prefix = echoedPrompt(i);
            GenerationResult scoredPrompt = echo ? results.get(choices.firstOfPrompt(i)) : null;
            out.add(new Completion.Choice(prefix + r.generatedText(), i,
                    Completion.Logprobs.of(r, scoredPrompt, prefix.length(), tokenizer),
                    Completion.Choice.finishReason(r.finishReason())));
        }
        return new Completion(id, Completion.OBJECT, created, model, out, Completion.Usage.of(results, choices));
    }

    @Override
    public List<EventStream.Event> opening() {
        if (!echo) {
            return List.of();
        }
        List<EventStream.Event> prompts = new ArrayList<>();
        for (int i = 0; i < choices.requests().size(); i++) {
            prompts.add(chunk(new Completion.Choice(choices.promptText(i), i, null, null)));
        }
        return prompts;
    }

    @Override
    public EventStream.Event token(int choice, int index, int token, String text) {
        return text.isEmpty() ? null : chunk(new Completion.Choice(text, choice, null, null));
    }

    @Override
    public List<EventStream.Event> closing(List<GenerationResult> results) {
        List<EventStream.Event> events = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            events.add(chunk(new Completion.Choice("", i, null, Completion.Choice.finishReason(results.get(i).finishReason()))));
        }
        if (includeUsage) {
            events.add(EventStream.Event.unnamed(new Completion(id, Completion.OBJECT, created, model, List.of(),
                    Completion.Usage.of(results, choices))));
        }
        return events;
    }

    @Override
    public EventStream.Event last() {
        return EventStream.Event.unnamed("[DONE]");
    }

    private String echoedPrompt(int choice) {
        return echo ? choices.promptText(choice) : "";
    }

    private EventStream.Event chunk(Completion.Choice choice) {
        return EventStream.Event.unnamed(new Completion(id, Completion.OBJECT, created, model, List.of(choice), null));
    }
}
