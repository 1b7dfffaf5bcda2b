package com.scratchgpt.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.scratchgpt.generation.Inspection;

import io.swagger.v3.oas.annotations.media.Schema;

/** Body of a POST /inspect answer. */
@JsonInclude(JsonInclude.Include.NON_NULL)
record InspectResponse(
        @Schema(description = "The prompt's tokens: id and text")
        List<Inspection.Token> tokens,
        @Schema(description = "[layer][head][query][key]: each head's softmax weights, causal rows only (row q holds "
                + "keys 0..q); null for a layer not asked for; left out with attention: false",
                example = "[[[[1.0], [0.52, 0.48]]]]")
        float[][][][] attention,
        @Schema(description = "[layer][position]: the top tokens of softmax(out_head(final_norm(x))) for the residual "
                + "stream x after that block; the last layer's are the model's prediction. Left out with logitLens: false")
        List<List<Inspection.LensCell>> logitLens,
        @Schema(description = "After the last position: the top tokens with logit, prob (softmax at temperature 1) "
                + "and sampledProb (what /generate's sampler draws from under the request's temperature, topK, topP)")
        Inspection.Next next,
        @Schema(description = "Cross-entropy of each prompt token given the ones before (T - 1 values), their mean, "
                + "and perplexity = exp(mean); mean and perplexity are null for a one-token prompt")
        Inspection.Loss loss) {

    static InspectResponse of(Inspection i) {
        return new InspectResponse(i.tokens(), i.attention(), i.logitLens(), i.next(), i.loss());
    }
}
