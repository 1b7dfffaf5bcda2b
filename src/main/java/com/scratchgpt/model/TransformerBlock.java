package com.scratchgpt.model;

import java.nio.FloatBuffer;
import java.util.List;

/** The seeds' pre-LayerNorm TransformerBlock with its two shortcut connections. */
public final class TransformerBlock {

    private final LayerNorm norm1;
    private final MultiHeadAttention att;
    private final LayerNorm norm2;
    private final FeedForward ff;
    private final int emb;

    public TransformerBlock(LayerNorm norm1, MultiHeadAttention att, LayerNorm norm2, FeedForward ff, int emb) {
        this.norm1 = norm1;
        this.att = att;
        this.norm2 = norm2;
        this.ff = ff;
        this.emb = emb;
    }

    /** x (rows, emb), updated in place. Dropout is an identity in eval mode. */
    void forward(Tensor x, List<SequenceChunk> chunks, int layer, Activations act, int rows) {
        // x = x + att(norm1(x))
        norm1.forward(x, act.normed, rows);
        att.forward(act.normed, act.delta, chunks, layer, act, rows);
        addInPlace(x, act.delta, rows * emb);
        // x = x + ff(norm2(x))
        norm2.forward(x, act.normed, rows);
        ff.forward(act.normed, act.hidden, act.delta, rows);
        addInPlace(x, act.delta, rows * emb);
    }

    private static void addInPlace(Tensor x, Tensor delta, int n) {
        FloatBuffer a = x.buffer();
        FloatBuffer b = delta.buffer();
        for (int i = 0; i < n; i++) {
            a.put(i, a.get(i) + b.get(i));
        }
    }
}
