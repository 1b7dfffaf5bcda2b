package com.scratchgpt.model;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * Parameter counts derived from a configuration, counted like the seeds' {@code sum(p.numel())}:
 * each tensor once, so a tied output head adds nothing.
 *
 * @param totalParameters           every parameter tensor once
 * @param parametersWithWeightTying total minus the output head when the head is separate; the total when tied
 * @param tiedOutputHead            whether the head shares the token embedding's array
 * @param sizeBytes                 4 bytes a parameter (float32)
 * @param sizeMb                    sizeBytes / 1024 / 1024, rounded to two decimals
 */
public record ParameterCount(long totalParameters, long parametersWithWeightTying, boolean tiedOutputHead,
                             long sizeBytes, double sizeMb, Components components, PerBlock perBlock) {

    /** Parameters per top-level module; outputHead is 0 when tied. */
    public record Components(long tokenEmbedding, long positionEmbedding, long transformerBlocks, long finalNorm,
                             long outputHead) {
    }

    /** Parameters of one transformer block. */
    public record PerBlock(long attention, long feedForward, long layerNorms, long total) {
    }

    public static ParameterCount of(GPTConfig cfg, boolean tiedOutputHead) {
        long e = cfg.embDim();
        long attention = 3 * e * e + (cfg.qkvBias() ? 3 * e : 0) + e * e + e;
        long feedForward = e * 4 * e + 4 * e + 4 * e * e + e;
        long layerNorms = 2 * 2 * e;
        PerBlock block = new PerBlock(attention, feedForward, layerNorms, attention + feedForward + layerNorms);
        long head = (long) cfg.vocabSize() * e;
        Components c = new Components((long) cfg.vocabSize() * e, (long) cfg.contextLength() * e,
                cfg.nLayers() * block.total(), 2 * e, tiedOutputHead ? 0 : head);
        long total = c.tokenEmbedding() + c.positionEmbedding() + c.transformerBlocks() + c.finalNorm() + c.outputHead();
        long tied = tiedOutputHead ? total : total - head;
        long bytes = total * Float.BYTES;
        double mb = BigDecimal.valueOf(bytes).divide(BigDecimal.valueOf(1024L * 1024L), 2, RoundingMode.HALF_UP).doubleValue();
        return new ParameterCount(total, tied, tiedOutputHead, bytes, mb, c, block);
    }
}
