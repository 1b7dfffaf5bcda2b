package com.scratchgpt.model;

/**
 * Every intermediate buffer of a forward pass, allocated once for at most {@code maxRows} new tokens
 * (summed over the sequences of a step) and {@code maxSequences} sequences, then reused for each step.
 * The buffers that feed or take a product with a weight matrix have room for {@link Blas#paddedRows}.
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
        int rows = Blas.paddedRows(maxRows);
        int sequences = Blas.paddedRows(maxSequences);
        this.x = Tensor.zeros(rows, emb);
        this.normed = Tensor.zeros(rows, emb);
        this.qkv = Tensor.zeros(rows, 3L * emb);
        this.context = Tensor.zeros(rows, emb);
        this.delta = Tensor.zeros(rows, emb);
        this.hidden = Tensor.zeros(rows, 4L * emb);
        this.scores = Tensor.zeros((long) cfg.nHeads() * maxRows * cfg.contextLength());
        this.last = Tensor.zeros(sequences, emb);
        this.logits = Tensor.zeros(sequences, cfg.vocabSize());
    }

    /** The logits of the last step: (sequences, vocab), one row per sequence in step order. */
    public Tensor logits() {
        return logits;
    }
}
