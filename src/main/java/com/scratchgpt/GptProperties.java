package com.scratchgpt;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;

/**
 * The service's settings ({@code gpt.*} in application.properties, or environment variables such as
 * {@code GPT_MODEL_PATH}).
 */
@Validated
@ConfigurationProperties("gpt")
public record GptProperties(@Valid @DefaultValue Model model, @Valid @DefaultValue Generation generation) {

    /**
     * @param path    folder with config.json + model.safetensors, or a .safetensors file; empty for a random model
     * @param preset  the GPT-2 size to initialise when no path is set
     * @param seed    torch.manual_seed for that initialisation
     * @param qkvBias whether that model's query/key/value projections carry biases
     */
    public record Model(String path, @NotBlank @DefaultValue("gpt2-small") String preset,
                        @DefaultValue("123") long seed, @DefaultValue("false") boolean qkvBias) {
    }

    /**
     * @param maxNewTokens  upper bound on a request's maxNewTokens
     * @param maxConcurrent requests generating at the same time (sharing each forward pass)
     * @param maxQueue      requests waiting beyond those; more are refused with 429
     * @param timeout       deadline for one request, queueing included
     * @param maxBatch      sequences sharing one forward pass
     * @param maxBatchTokens KV-cache positions for all running sequences together, allocated once at start
     *                      (GPT-2 small: 72 KiB a position; at least one full context)
     * @param prefillChunk  prompt tokens read per step while other sequences decode
     */
    public record Generation(@Min(1) @DefaultValue("1024") int maxNewTokens,
                             @Min(1) @DefaultValue("16") int maxConcurrent,
                             @Min(0) @DefaultValue("64") int maxQueue,
                             @DefaultValue("5m") Duration timeout,
                             @Min(1) @DefaultValue("16") int maxBatch,
                             @Min(1) @DefaultValue("8192") int maxBatchTokens,
                             @Min(1) @DefaultValue("512") int prefillChunk) {
    }
}
