package com.scratchgpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.TorchInitializer;
import com.scratchgpt.weights.CheckpointException;
import com.scratchgpt.weights.SafetensorsImage;

import tools.jackson.databind.node.ObjectNode;

/** What start-up serves: the model's id and layout, and a checkpoint the tokenizer cannot serve refused. */
class ServedModelTest {

    @TempDir
    Path dir;

    private static ServedModel startUp(String path) {
        return new ModelConfiguration().servedModel(
                new GptProperties(new GptProperties.Model(path, "gpt2-small", 123, false, "f32"), null, null, null));
    }

    @Test
    void checkpointIsNamedByItsFolderAndReportsItsLayout() {
        ServedModel served = startUp(Fixtures.of("tiny-hf").dir().toString());

        assertThat(served.id()).isEqualTo("tiny-hf");
        assertThat(served.layout()).isEqualTo(ServedModel.Layout.HUGGING_FACE);
        assertThat(SafetensorsImage.JSON.writeValueAsString(served.layout())).isEqualTo("\"huggingface\"");
        assertThat(startUp(Fixtures.of("tiny-book").dir().resolve("model.safetensors").toString()).id())
                .isEqualTo("tiny-book");
    }

    @Test
    void randomModelIsNamedByItsPreset() {
        var model = TorchInitializer.initialize(new GPTConfig(50257, 16, 8, 2, 1, 0.0, false), 123);

        ServedModel served = ServedModel.randomInit(model, "gpt2-small", 123, 0);

        assertThat(served.id()).isEqualTo("gpt2-small");
        assertThat(served.layout()).hasToString("random-init");
    }

    @Test
    void checkpointWhoseVocabularyIsNotTheTokenizersIsRefusedAtStartUpNamingConfigJson() throws IOException {
        // tiny-hf cut down to a consistent 1000-token vocabulary: it loads, but the tokenizer's ids reach 50256
        SafetensorsImage image = SafetensorsImage.read(SafetensorsImage.copyFixture("tiny-hf", dir));
        ObjectNode wte = image.tensor("wte.weight");
        long begin = wte.get("data_offsets").get(0).asLong();
        wte.putArray("shape").add(1000).add(16);
        wte.putArray("data_offsets").add(begin).add(begin + 1000 * 16 * Float.BYTES);
        image.write(dir.resolve("model.safetensors"));
        Path config = dir.resolve("config.json");
        ObjectNode c = (ObjectNode) SafetensorsImage.JSON.readTree(Files.readAllBytes(config));
        Files.write(config, SafetensorsImage.JSON.writeValueAsBytes(c.put("vocab_size", 1000)));

        assertThatThrownBy(() -> startUp(dir.toString()))
                .isInstanceOf(CheckpointException.class)
                .hasMessage(config.toAbsolutePath() + ": vocab_size 1000 is not the GPT-2 tokenizer's 50257 (ids 0..50256)");
    }
}
