package com.scratchgpt.model;

/**
 * Every intermediate buffer of a forward pass, allocated once for at most {@code maxRows} new tokens
 * (summed over the sequences of a step) and {@code maxSequences} sequences, then reused for each step.
 * One Activations serves one thread.
 */
public final class Activations {

    final int maxRows;
    final int maxSequences;
    final Tensor x;        // (rows, emb): the residual stream
    final Tensor normed;   // (rows, emb): LayerNorm output
    final Tensor qkv;      // (rows, 3 emb): fused query, key, value projections
    final Tensor context;  // (rows, emb): attention output before out_proj
    final Tensor delta;    // (rows, emb): a sub-layer's output, added onto x
    final Tensor hidden;   // (rows, 4 emb): feed-forward hidden layer
    final Tensor scores;   // (heads, rows, context_length): one chunk's attention weights
    final Tensor last;     // (sequences, emb): final-norm of each sequence's last position
    final Tensor logits;   // (sequences, vocab)

    public Activations(GPTConfig cfg, int maxRows, int maxSequences) {
        if (maxRows <= 0 || maxSequences <= 0) {
            throw new IllegalArgumentException("Activations need at least one row and one sequence");
        }
        int emb = cfg.embDim();
        this.maxRows = maxRows;
        this.maxSequences = maxSequences;
        this.x = Tensor.zeros(maxRows, emb);
        this.normed = Tensor.zeros(maxRows, emb);
        this.qkv = Tensor.zeros(maxRows, 3L * emb);
        this.context = Tensor.zeros(maxRows, emb);
        this.delta = Tensor.zeros(maxRows, emb);
        this.hidden = Tensor.zeros(maxRows, 4L * emb);
        this.scores = Tensor.zeros((long) cfg.nHeads() * maxRows * cfg.contextLength());
        this.last = Tensor.zeros(maxSequences, emb);
        this.logits = Tensor.zeros(maxSequences, cfg.vocabSize());
    }

    /** The logits of the last step: (sequences, vocab), one row per sequence in step order. */
    public Tensor logits() {
        return logits;
    }
}
