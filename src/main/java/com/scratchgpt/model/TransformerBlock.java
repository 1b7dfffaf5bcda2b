package com.scratchgpt.model;

/** The seeds' TransformerBlock: pre-LayerNorm attention and feed-forward, each with a shortcut connection. */
public final class TransformerBlock {

    private final LayerNorm norm1;
    private final MultiHeadAttention att;
    private final LayerNorm norm2;
    private final FeedForward ff;

    public TransformerBlock(LayerNorm norm1, MultiHeadAttention att, LayerNorm norm2, FeedForward ff) {
        this.norm1 = norm1;
        this.att = att;
        this.norm2 = norm2;
        this.ff = ff;
    }

    /** The residual stream act.x (rows, emb), updated in place. Dropout (drop_shortcut) is an identity in eval mode. */
    void forward(Activations act) {
        // x = x + att(norm1(x))
        norm1.forward(act, act.x, act.normed);
        att.forward(act, act.normed, act.delta);
        act.addToResidual(act.delta);
        // x = x + ff(norm2(x))
        norm2.forward(act, act.x, act.normed);
        ff.forward(act, act.normed, act.delta);
        act.addToResidual(act.delta);
    }
}
