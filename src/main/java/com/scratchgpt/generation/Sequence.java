package com.scratchgpt.generation;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import com.scratchgpt.model.KVCache;
import com.scratchgpt.model.SequenceChunk;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * One request in flight: its tokens, its KV cache, its sampler and the text generated so far.
 * Each step it offers the tokens the model has not seen yet and, once the model has seen them all,
 * accepts the logits that follow. Asked to score its prompt, it also takes the logits of its prompt's
 * positions as the model reads them; asked for no new token, it ends once its prompt is scored.
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
    private final List<TokenLogprob> promptLogprobs; // token i + 1's under position i's logits, when asked for
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
        this.promptLogprobs = request.promptLogprobs() ? new ArrayList<>() : null;
        if (request.promptLogprobs() && readEnd() > contextLength) {
            // the seeds' crop would drop the first tokens: they could not all be scored in one window
            throw new IllegalArgumentException("a prompt of " + length + " tokens cannot be scored in a context of "
                    + contextLength + (request.maxNewTokens() == 0 ? " (the last token is never read)" : ""));
        }
        if (request.maxNewTokens() == 0 && promptTokensToScore() == 0) {
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
        int start = Math.max(0, readEnd() - contextLength);
        if (start != windowStart) {
            cache.clear();
            windowStart = start;
        }
        int from = windowStart + cache.length();
        int to = Math.min(readEnd(), from + maxTokens);
        return new SequenceChunk(Arrays.copyOfRange(tokens, from, to), cache);
    }

    /** Tokens the model must still run before this sequence can sample: 1 while decoding. */
    int pendingTokens() {
        int start = Math.max(0, readEnd() - contextLength);
        return start != windowStart ? readEnd() - start : readEnd() - windowStart - cache.length();
    }

    /**
     * Where the model stops reading: at the last token, whose logits predict the next one; only scoring its prompt,
     * a sequence needs no logits of its last position, and the model never runs it, so a prompt of context_length + 1
     * tokens is read in one window, as the book's training windows are (inputs and targets shifted by one).
     */
    private int readEnd() {
        return request.maxNewTokens() == 0 ? length - 1 : length;
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

    /** Prompt tokens whose log-probability is still to come: all but the first, when asked for. */
    private int promptTokensToScore() {
        return promptLogprobs == null ? 0 : request.promptTokens().length - 1 - promptLogprobs.size();
    }

    /**
     * Of the chunk the model has just read ({@code chunkLength} tokens), the leading rows whose logits score a prompt
     * token. The prompt is read in one window, so its positions come in order, from 0, before any token is generated.
     */
    int promptRowsToScore(int chunkLength) {
        return Math.min(chunkLength, promptTokensToScore());
    }

    /**
     * Takes the logits of the next {@code rows} prompt positions, (rows, vocab): each scores the prompt token after
     * it, by the same log-softmax as generated tokens. Once the prompt is scored, a sequence asked for no new token ends.
     */
    void acceptPromptLogits(FloatBuffer logits, int rows, int vocab) {
        int[] prompt = request.promptTokens();
        int first = promptLogprobs.size();
        // rows are independent: a whole-vocabulary softmax each, shared among the cores
        promptLogprobs.addAll(IntStream.range(0, rows).parallel().mapToObj(r -> LogSoftmax.of(logits, r * vocab, vocab,
                prompt[first + r + 1], request.logprobs(), tokenizer)).toList());
        if (request.maxNewTokens() == 0 && promptTokensToScore() == 0) {
            finish = FinishReason.LENGTH;
        }
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
                logprobs == null ? null : List.copyOf(logprobs.subList(0, kept)),
                promptLogprobs == null ? null : List.copyOf(promptLogprobs));
    }
}
