package com.scratchgpt.weights;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import com.scratchgpt.Fixtures;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.ParameterCount;
import com.scratchgpt.model.ParameterTable;

/**
 * Hugging Face GPT-2 ties the output head to wte: with no lm_head.weight, or with one equal to wte,
 * the model holds one array for both; an lm_head.weight that differs loads as its own head.
 */
class WeightTyingTest {

    private static Path fixture(String name) {
        return Fixtures.of("tiny-hf").dir().resolveSibling(name);
    }

    @Test
    void hfCheckpointWithoutLmHeadLoadsTiedWithOneArray() {
        GPTModel model = CheckpointLoader.load(fixture("tiny-hf")).model();

        assertThat(model.tiedOutputHead()).isTrue();
        assertThat(model.parameters()).containsKey("tok_emb.weight").doesNotContainKey("out_head.weight");
        assertThat(model.parameters()).containsOnlyKeys(ParameterTable.parameters(model.config(), true).stream()
                .map(ParameterTable.Parameter::name).toList());
        assertThat(model.residentBytes())
                .isEqualTo(ParameterCount.of(model.config(), true).sizeBytes())
                .isEqualTo(Fixtures.of("tiny-hf").totalParams() * Float.BYTES);
    }

    @Test
    void prefixedF16CheckpointWithoutLmHeadLoadsTiedWithOneArray() {
        GPTModel model = CheckpointLoader.load(fixture("tiny-hf-f16").resolve("model.safetensors")).model();

        assertThat(model.tiedOutputHead()).isTrue();
        assertThat(model.parameters()).doesNotContainKey("out_head.weight");
    }

    @Test
    void lmHeadEqualToWteLoadsTiedWithOneArray() {
        try (SafetensorsFile st = SafetensorsFile.open(fixture("tiny-hf-lm-head-tied").resolve("model.safetensors"))) {
            assertThat(st.entries()).containsKeys("lm_head.weight", "transformer.wte.weight");
        }
        GPTModel model = CheckpointLoader.load(fixture("tiny-hf-lm-head-tied")).model();

        assertThat(model.tiedOutputHead()).isTrue();
        assertThat(model.parameters()).doesNotContainKey("out_head.weight");
        assertThat(model.residentBytes()).isEqualTo(Fixtures.of("tiny-hf-f16").totalParams() * Float.BYTES);
    }

    @Test
    void lmHeadThatDiffersFromWteLoadsAsASeparateHead() {
        GPTModel model = CheckpointLoader.load(fixture("tiny-hf-lm-head-untied")).model();

        assertThat(model.tiedOutputHead()).isFalse();
        assertThat(model.parameters()).containsKey("out_head.weight");
        assertThat(model.parameters().get("out_head.weight").buffer())
                .isNotEqualTo(model.parameters().get("tok_emb.weight").buffer());
        assertThat(model.residentBytes()).isEqualTo(Fixtures.of("tiny-hf-lm-head-untied").totalParams() * Float.BYTES);
    }
}
