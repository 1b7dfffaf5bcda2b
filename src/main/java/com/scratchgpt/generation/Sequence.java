package com.scratchgpt.generation;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.scratchgpt.model.KVCache;
import com.scratchgpt.model.SequenceChunk;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * One request in flight: its tokens, its KV cache, its sampler and the text generated so far.
 * Each step it offers the tokens the model has not seen yet and, once the model has seen them all,
 * accepts the logits that follow.
 */
final class Sequence {

    final GenerationRequest request;
    final SequenceGroup group;
    final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
    final long submittedNanos = System.nanoTime();
    final long deadlineNanos;

    private final GPT2Tokenizer tokenizer;
    private final TokenListener listener;
    private final int contextLength;
    private final Sampler sampler;
    private final Continuation text;
    private final List<TokenLogprob> logprobs;
    private final int[] tokens;
    private final int[] tokenStartByte;
    private KVCache cache;
    private boolean admitted;
    private int windowStart; // the cache holds tokens[windowStart, windowStart + cache.length())
    private int length;
    private int generated;
    private int textBytes;
    private FinishReason finish;

    Sequence(GenerationRequest request, SequenceGroup group, int contextLength, GPT2Tokenizer tokenizer,
             TokenListener listener, long deadlineNanos) {
        this.request = request;
        this.group = group;
        this.tokenizer = tokenizer;
        this.listener = listener;
        this.contextLength = contextLength;
        this.deadlineNanos = deadlineNanos;
        this.tokens = Arrays.copyOf(request.promptTokens(), request.promptTokens().length + request.maxNewTokens());
        this.length = request.promptTokens().length;
        this.tokenStartByte = new int[request.maxNewTokens()];
        this.sampler = Sampler.of(request);
        this.text = new Continuation(request.stop());
        this.logprobs = request.logprobs() != null ? new ArrayList<>() : null;
        if (request.maxNewTokens() == 0) {
            finish = FinishReason.LENGTH;
        }
    }

    /** KV positions this sequence needs at most: the model never runs its last token. */
    int cacheCapacity() {
        return Math.min(contextLength, Math.max(1, tokens.length - 1));
    }

    /** Gives the sequence its cache; true the first time (a sequence that gave its cache back gets another). */
    boolean attach(KVCache cache) {
        boolean first = !admitted;
        this.cache = cache;
        admitted = true;
        return first;
    }

    /** Takes the cache away, once it has been given back to the pool. */
    void detach() {
        cache = null;
    }

    KVCache cache() {
        return cache;
    }

    boolean finished() {
        return finish != null;
    }

    int generatedCount() {
        return generated;
    }

    /**
     * The next tokens for the model, at most {@code maxTokens}, cropped exactly as the seeds crop: the
     * window is the last context_length tokens with positions from 0. While the sequence fits in the
     * context the window only grows and the cache keeps its start; past it the window slides, every
     * position changes, and the whole window runs again.
     */
    SequenceChunk nextChunk(int maxTokens) {
        int start = Math.max(0, length - contextLength);
        if (start != windowStart) {
            cache.clear();
            windowStart = start;
        }
        int from = windowStart + cache.length();
        int to = Math.min(length, from + maxTokens);
        return new SequenceChunk(Arrays.copyOfRange(tokens, from, to), cache);
    }

    /** Tokens the model must still run before this sequence can sample: 1 while decoding. */
    int pendingTokens() {
        int start = Math.max(0, length - contextLength);
        return start != windowStart ? length - start : length - windowStart - cache.length();
    }

    /**
     * True while the model re-reads a window it has run before: past the context, after each new token the
     * window slid and every position changed. Its rows cost as much as a prompt's, for every token.
     */
    boolean recomputing() {
        return generated > 0 && pendingTokens() > 1;
    }

    /**
     * True when the cache holds nothing this sequence will read again: past the context, once it has taken
     * its token, the window slides and the next step re-reads all of it from position 0.
     */
    boolean windowSlid() {
        return generated > 0 && Math.max(0, length - contextLength) != windowStart;
    }

    /** True when the model has seen every token, so the last step's logits predict the next one. */
    boolean readyToSample() {
        return windowStart + cache.length() == length;
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

    GenerationResult toResult() {
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
