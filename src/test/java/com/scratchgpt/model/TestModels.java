package com.scratchgpt.model;

import java.util.LinkedHashMap;
import java.util.Map;

import com.scratchgpt.generation.BatchScheduler;
import com.scratchgpt.generation.GenerationObserver;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** Models shared by the tests of one JVM (GPT-2 small takes 650 MB and seconds to build). */
public final class TestModels {

    /** GPT-2's vocabulary and context length around small blocks: emb 64, 4 heads, 2 layers. */
    static final GPTConfig LONG_CONTEXT = new GPTConfig(50257, 1024, 64, 4, 2, 0.0, false);

    private static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();
    private static GPTModel seed123;
    private static GPTModel seed123TwoBlocks;
    private static GPTModel longContext;

    private TestModels() {
    }

    /** A scheduler for this model with small limits (4 sequences, one context of KV cache per sequence). */
    public static BatchScheduler scheduler(GPTModel model) {
        int ctx = model.config().contextLength();
        return new BatchScheduler(model, TOKENIZER,
                new BatchScheduler.Limits(4, 4, 16, 4 * ctx, 512), GenerationObserver.NONE);
    }

    /** The default model: GPT_CONFIG_124M initialised as torch.manual_seed(123) does. */
    public static synchronized GPTModel seed123() {
        if (seed123 == null) {
            seed123 = TorchInitializer.initialize(GPTConfig.GPT_CONFIG_124M, 123);
        }
        return seed123;
    }

    /**
     * GPT-2 small's embeddings, first two blocks, final norm and head: {@link #seed123()}'s own tensors, shared,
     * under a config of two layers. The default model's widths, heads, vocabulary and context, so every product,
     * attention and cache runs the shapes GPT-2 small runs, at under half its cost a token: for the scheduler's
     * checks that compare a sequence with itself (alone against in company, cached against the seeds' loop),
     * which hold block by block and need no twelve of them.
     */
    public static synchronized GPTModel seed123TwoBlocks() {
        if (seed123TwoBlocks == null) {
            GPTModel full = seed123();
            GPTConfig cfg = full.config();
            GPTConfig two = new GPTConfig(cfg.vocabSize(), cfg.contextLength(), cfg.embDim(), cfg.nHeads(), 2,
                    cfg.dropRate(), cfg.qkvBias());
            Map<String, Tensor> kept = new LinkedHashMap<>();
            for (ParameterTable.Parameter p : ParameterTable.parameters(two, full.tiedOutputHead())) {
                kept.put(p.name(), full.parameters().get(p.name()));
            }
            seed123TwoBlocks = GPTModel.of(two, kept);
        }
        return seed123TwoBlocks;
    }

    /**
     * A model with GPT-2's 1024-token context, its window recomputed past the context in milliseconds: for the
     * scheduler's handling of long sequences, which GPT-2 small's blocks only make slower (seconds a window).
     */
    public static synchronized GPTModel longContext() {
        if (longContext == null) {
            longContext = TorchInitializer.initialize(LONG_CONTEXT, 123);
        }
        return longContext;
    }
}
