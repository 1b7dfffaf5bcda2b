package com.scratchgpt.model;

import java.util.List;

/**
 * A forward step's state: the sequences it runs and every intermediate buffer, allocated once for at
 * most {@code maxRows} new tokens (summed over the sequences of a step) and {@code maxSequences}
 * sequences, then reused for each step. One Activations serves one thread.
 *
 * <p>The book's tensors are (batch, tokens, emb); here a step's rows are the new tokens of its
 * sequences ({@link SequenceChunk}s) back to back, so every row-wise layer (LayerNorm, the linear
 * layers, GELU) runs over all of them at once, and attention alone looks at the chunks one by one. Each
 * layer's {@code forward(Activations act, Tensor in, Tensor out)} reads and writes the named buffers
 * below over {@link #rows} rows. The buffers that feed or take a product with a weight matrix have room
 * for {@link Blas#paddedRows}.
 *
 * <p>The short chunks (decode positions, short prompts: at most {@link Linear#MAX_KERNEL_CHUNK} tokens)
 * come first, in the order given, then the long ones: the short ones' rows are then one block that a weight
 * kernel takes in one product (or f32 one row at a time), while each long chunk may go to sgemm on its own
 * ({@link Linear}).
 */
public final class Activations {

    final int maxRows;
    final int maxSequences;
    private final int emb;

    List<SequenceChunk> chunks; // the step's sequences, their new tokens back to back as rows
    int rows;                   // the step's new tokens, summed over the chunks
    int shortRows;              // the rows of the short chunks: rows 0..shortRows-1
    boolean keepsAttention;     // GPTModel.inspect's step: every chunk's weights through act.scores, none by kernel
    private int[] firstRow;     // per chunk (in the order given): its first row

    final Tensor x;        // (rows, emb): the residual stream
    final Tensor normed;   // (rows, emb): a LayerNorm's output
    final Tensor qkv;      // (rows, 3 emb): fused query, key, value projections
    final Tensor context;  // (rows, emb): attention output before out_proj
    final Tensor delta;    // (rows, emb): a sub-layer's output, added onto x
    final Tensor hidden;   // (rows, 4 emb): feed-forward hidden layer
    final Tensor scores;   // (heads, rows, context_length): one chunk's attention weights
    final Tensor last;     // (sequences, emb): the final-normed last position of each sequence
    final Tensor logits;   // (sequences, vocab)

    public Activations(GPTConfig cfg, int maxRows, int maxSequences) {
        if (maxRows <= 0 || maxSequences <= 0) {
            throw new IllegalArgumentException("Activations need at least one row and one sequence");
        }
        this.emb = cfg.embDim();
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
        this.firstRow = new int[maxSequences];
    }

    /** Frees every buffer now ({@link Tensor#free}); these activations are not used again. */
    void free() {
        for (Tensor t : new Tensor[] {x, normed, qkv, context, delta, hidden, scores, last, logits}) {
            t.free();
        }
    }

    /** The logits of the last step: (sequences, vocab), one row per sequence in step order. */
    public Tensor logits() {
        return logits;
    }

    /**
     * Starts a step over these chunks: their tokens become rows 0..rows-1, the short chunks' first, each
     * group in the order given.
     */
    void start(List<SequenceChunk> chunks) {
        if (chunks.size() > maxSequences) {
            throw new IllegalArgumentException(chunks.size() + " sequences exceed the activations' " + maxSequences);
        }
        int total = 0;
        for (SequenceChunk chunk : chunks) {
            int n = chunk.tokens().length;
            if (chunk.cache().length() + n > chunk.cache().capacity()) {
                throw new IllegalArgumentException("a chunk of " + n + " tokens after " + chunk.cache().length()
                        + " cached positions exceeds the cache capacity " + chunk.cache().capacity());
            }
            total += n;
        }
        if (total > maxRows) {
            throw new IllegalArgumentException(total + " tokens: more than the activations' " + maxRows + " rows");
        }
        this.chunks = chunks;
        this.rows = total;
        this.keepsAttention = false;
        int row = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int c = 0; c < chunks.size(); c++) {
                int n = chunks.get(c).tokens().length;
                if (isShort(n) == (pass == 0)) {
                    firstRow[c] = row;
                    row += n;
                }
            }
            if (pass == 0) {
                shortRows = row;
            }
        }
    }

    static boolean isShort(int tokens) {
        return tokens <= Linear.MAX_KERNEL_CHUNK;
    }

    /** The row of chunk {@code c}'s first token. */
    int firstRow(int c) {
        return firstRow[c];
    }

    /** from (rows, emb) -> to (sequences, emb): the row of each chunk's last token. */
    void gatherLastPositions(Tensor from, Tensor to) {
        for (int s = 0; s < chunks.size(); s++) {
            int last = firstRow[s] + chunks.get(s).tokens().length - 1;
            to.copyFrom(from, last * emb, s * emb, emb);
        }
    }

    /** x (rows, emb) += d (rows, emb): a shortcut connection adding a sub-layer's output onto the residual stream. */
    void addToResidual(Tensor d) {
        x.addInPlace(d, rows * emb);
    }
}
