package com.scratchgpt.api;

import java.util.Arrays;
import java.util.List;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.GPTPreset;
import com.scratchgpt.model.ParameterCount;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;

/** What the served model is, and what the GPT-2 sizes would be. */
@RestController
@RequestMapping("/model")
@Tag(name = "Model")
class ModelController {

    /**
     * GET /model/params: counts like the seeds' sum(p.numel()), per component and per block; sizeBytes and
     * sizeMb at float32 as the book counts them, weightFormat and residentBytes as served.
     */
    record ModelParams(
            @Schema(example = "163009536") long totalParameters,
            @Schema(example = "124412160") long parametersWithWeightTying,
            @Schema(example = "false") boolean tiedOutputHead,
            @Schema(description = "4 bytes a parameter (float32), as the book counts them", example = "652038144")
            long sizeBytes,
            @Schema(description = "sizeBytes / 1024 / 1024, two decimals", example = "621.83") double sizeMb,
            @Schema(description = "How the linear layers' weights and the token embedding are held and computed"
                    + " (gpt.model.weight-format); the position embedding, LayerNorm parameters and biases stay float32",
                    allowableValues = {"f32", "bf16", "q8_0"}, example = "f32")
            String weightFormat,
            @Schema(description = "Bytes the loaded weights occupy in that format, scales included, each tensor once",
                    example = "652038144")
            long residentBytes,
            ParameterCount.Components components,
            ParameterCount.PerBlock perBlock,
            GPTConfig config) {

        static ModelParams of(GPTModel model) {
            GPTConfig cfg = model.config();
            ParameterCount c = ParameterCount.of(cfg, model.tiedOutputHead());
            return new ModelParams(c.totalParameters(), c.parametersWithWeightTying(), c.tiedOutputHead(),
                    c.sizeBytes(), c.sizeMb(), model.weightFormat().id(), model.residentBytes(), c.components(),
                    c.perBlock(), cfg);
        }
    }

    /** One entry of GET /model/presets. */
    record Preset(@Schema(example = "gpt2-small") String name, GPTConfig config,
                  @Schema(example = "163009536") long totalParameters,
                  @Schema(example = "124412160") long parametersWithWeightTying,
                  @Schema(example = "621.83") double sizeMb) {
    }

    private final GPTModel model;

    ModelController(GPTModel model) {
        this.model = model;
    }

    @Operation(summary = "Parameter counts of the served model")
    @GetMapping("/params")
    ModelParams params() {
        return ModelParams.of(model);
    }

    @Operation(summary = "The four GPT-2 sizes, counted from their configurations (separate output head)")
    @GetMapping("/presets")
    List<Preset> presets() {
        return Arrays.stream(GPTPreset.values()).map(p -> {
            GPTConfig cfg = p.config(false);
            ParameterCount c = ParameterCount.of(cfg, false);
            return new Preset(p.presetName(), cfg, c.totalParameters(), c.parametersWithWeightTying(), c.sizeMb());
        }).toList();
    }
}
