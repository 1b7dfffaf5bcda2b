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

    /** GET /model/params: counts like the seeds' sum(p.numel()), per component and per block. */
    record ModelParams(
            @Schema(example = "163009536") long totalParameters,
            @Schema(example = "124412160") long parametersWithWeightTying,
            @Schema(example = "false") boolean tiedOutputHead,
            @Schema(example = "652038144") long sizeBytes,
            @Schema(example = "621.83") double sizeMb,
            ParameterCount.Components components,
            ParameterCount.PerBlock perBlock,
            GPTConfig config) {

        static ModelParams of(GPTConfig cfg, boolean tied) {
            ParameterCount c = ParameterCount.of(cfg, tied);
            return new ModelParams(c.totalParameters(), c.parametersWithWeightTying(), c.tiedOutputHead(),
                    c.sizeBytes(), c.sizeMb(), c.components(), c.perBlock(), cfg);
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
        return ModelParams.of(model.config(), model.tiedOutputHead());
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
