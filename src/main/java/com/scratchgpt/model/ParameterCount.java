package com.scratchgpt.model;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.EnumMap;
import java.util.Map;

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

    /** Counts the {@link ParameterTable}'s rows under this configuration. */
    public static ParameterCount of(GPTConfig cfg, boolean tiedOutputHead) {
        Map<ParameterTable.Part, Long> byPart = new EnumMap<>(ParameterTable.Part.class);
        for (ParameterTable row : ParameterTable.values()) {
            byPart.merge(row.part(), row.parameterCount(cfg), Long::sum);
        }
        long attention = byPart.get(ParameterTable.Part.ATTENTION);
        long feedForward = byPart.get(ParameterTable.Part.FEED_FORWARD);
        long layerNorms = byPart.get(ParameterTable.Part.LAYER_NORMS);
        PerBlock block = new PerBlock(attention, feedForward, layerNorms, attention + feedForward + layerNorms);
        long head = byPart.get(ParameterTable.Part.OUTPUT_HEAD);
        Components c = new Components(byPart.get(ParameterTable.Part.TOKEN_EMBEDDING),
                byPart.get(ParameterTable.Part.POSITION_EMBEDDING), cfg.nLayers() * block.total(),
                byPart.get(ParameterTable.Part.FINAL_NORM), tiedOutputHead ? 0 : head);
        long total = c.tokenEmbedding() + c.positionEmbedding() + c.transformerBlocks() + c.finalNorm() + c.outputHead();
        long tied = tiedOutputHead ? total : total - head;
        long bytes = total * Float.BYTES;
        double mb = BigDecimal.valueOf(bytes).divide(BigDecimal.valueOf(1024L * 1024L), 2, RoundingMode.HALF_UP).doubleValue();
        return new ParameterCount(total, tied, tiedOutputHead, bytes, mb, c, block);
    }
}
