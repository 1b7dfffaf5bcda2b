package com.scratchgpt.generation;

import java.util.List;

import com.scratchgpt.model.Activations;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * Generates with a KV cache: the prompt runs through the model once (prefill), then one position per
 * step (decode). Greedy results are identical, token for token, to the seeds' loop ({@link SimpleGenerator}).
 * One request at a time runs on the model; callers queue on the lock.
 */
public final class Generator {

    private final GPTModel model;
    private final GPT2Tokenizer tokenizer;
    private final Activations act;

    public Generator(GPTModel model, GPT2Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.act = new Activations(model.config(), model.config().contextLength(), 1);
    }

    public GenerationResult generate(GenerationRequest request) {
        return generate(request, TokenListener.NONE);
    }

    public synchronized GenerationResult generate(GenerationRequest request, TokenListener listener) {
        Sequence seq = new Sequence(request, model.config(), tokenizer, listener);
        int vocab = model.config().vocabSize();
        while (!seq.finished()) {
            model.forward(List.of(seq.nextChunk()), act);
            seq.accept(act.logits().buffer(), 0, vocab);
        }
        return seq.result();
    }
}
