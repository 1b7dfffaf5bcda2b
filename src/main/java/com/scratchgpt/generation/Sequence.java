package com.scratchgpt.generation;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.KVCache;
import com.scratchgpt.model.SequenceChunk;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * One request in flight: its tokens, its KV cache, its sampler and the text generated so far.
 * Each step it offers the tokens the model has not seen yet and accepts the logits that follow.
 */
final class Sequence {

    private final GenerationRequest request;
    private final GPT2Tokenizer tokenizer;
    private final TokenListener listener;
    private final int contextLength;
    private final KVCache cache;
    private final Sampler sampler;
    private final Continuation text;
    private final List<TokenLogprob> logprobs;
    private int[] tokens;
    private int length;
    private final int[] tokenStartByte;
    private int generated;
    private int textBytes;
    private FinishReason finish;

    Sequence(GenerationRequest request, GPTConfig cfg, GPT2Tokenizer tokenizer, TokenListener listener) {
        this.request = request;
        this.tokenizer = tokenizer;
        this.listener = listener;
        this.contextLength = cfg.contextLength();
        int total = request.promptTokens().length + request.maxNewTokens();
        this.tokens = Arrays.copyOf(request.promptTokens(), total);
        this.length = request.promptTokens().length;
        this.tokenStartByte = new int[request.maxNewTokens()];
        this.cache = new KVCache(cfg, Math.min(contextLength, Math.max(1, total - 1)));
        this.sampler = Sampler.of(request);
        this.text = new Continuation(request.stop());
        this.logprobs = request.logprobs() != null ? new ArrayList<>() : null;
        if (request.maxNewTokens() == 0) {
            finish = FinishReason.LENGTH;
        }
    }

    boolean finished() {
        return finish != null;
    }

    /**
     * The tokens the model must run next, exactly as the seeds crop: the window is the last
     * context_length tokens with positions from 0. While the sequence fits in the context, the cache
     * holds the window's start and only the new tokens run; past it, the window slides, every position
     * changes, and the whole window runs again.
     */
    SequenceChunk nextChunk() {
        int from;
        if (length <= contextLength) {
            from = cache.length();
        } else {
            cache.clear();
            from = length - contextLength;
        }
        return new SequenceChunk(Arrays.copyOfRange(tokens, from, length), cache);
    }

    /** Takes the logits after the last token: choose, record, and check whether generation ends. */
    void accept(FloatBuffer logits, int offset, int vocab) {
        int token = sampler.sample(logits, offset, vocab);
        if (logprobs != null) {
            logprobs.add(LogSoftmax.of(logits, offset, vocab, token, request.logprobs(), tokenizer));
        }
        tokenStartByte[generated] = textBytes;
        tokens[length++] = token;
        int index = generated++;
        if (token == GPT2Tokenizer.END_OF_TEXT) {
            finish = FinishReason.EOS;
            listener.onToken(index, token, text.finish());
            return;
        }
        byte[] bytes = tokenizer.tokenBytes(token);
        textBytes += bytes.length;
        String released = text.append(bytes);
        if (text.stopped()) {
            finish = FinishReason.STOP;
        } else if (generated == request.maxNewTokens()) {
            finish = FinishReason.LENGTH;
            released += text.finish();
        }
        listener.onToken(index, token, released);
    }

    GenerationResult result() {
        int kept = generated;
        if (finish == FinishReason.STOP) {
            // drop the tokens that begin inside or after the stop sequence
            int end = text.textBytes();
            while (kept > 0 && tokenStartByte[kept - 1] >= end) {
                kept--;
            }
        }
        int promptLength = request.promptTokens().length;
        int[] out = Arrays.copyOfRange(tokens, promptLength, promptLength + kept);
        return new GenerationResult(request.promptTokens(), out, text.text(), finish,
                logprobs == null ? null : List.copyOf(logprobs.subList(0, kept)));
    }
}
