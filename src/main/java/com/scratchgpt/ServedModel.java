package com.scratchgpt;

import java.nio.file.Path;

import com.fasterxml.jackson.annotation.JsonValue;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.tokenizer.GPT2Tokenizer;
import com.scratchgpt.weights.CheckpointException;
import com.scratchgpt.weights.CheckpointLayout;
import com.scratchgpt.weights.CheckpointLoader;

/**
 * The model this service runs and where it came from.
 *
 * @param model      the model
 * @param id         the model's name for clients (the id {@code /v1/models} lists): the preset's name for
 *                   a randomly initialised model, the checkpoint folder's name otherwise
 * @param source     the weights file, or the preset and seed it was initialised with
 * @param layout     how the weights were made: a checkpoint in one of its layouts, or the random initialisation
 * @param dtype      the dtype(s) the weights were stored in (computation is float32)
 * @param loadMillis how long loading or initialising took
 */
public record ServedModel(GPTModel model, String id, String source, Layout layout, String dtype, long loadMillis) {

    /** How the weights were made; reported by its label. */
    public enum Layout {
        BOOK("book"), HUGGING_FACE("huggingface"), RANDOM_INIT("random-init");

        private final String label;

        Layout(String label) {
            this.label = label;
        }

        @JsonValue
        public String label() {
            return label;
        }

        @Override
        public String toString() {
            return label;
        }

        static Layout of(CheckpointLayout layout) {
            return switch (layout) {
                case BOOK -> BOOK;
                case HUGGING_FACE -> HUGGING_FACE;
            };
        }
    }

    /**
     * A checkpoint's model, refused unless its vocabulary is the tokenizer's: with fewer ids the tokenizer's
     * own would be out of range, with more the model could pick ids nothing decodes.
     */
    public static ServedModel checkpoint(CheckpointLoader.Loaded loaded) {
        int vocab = loaded.model().config().vocabSize();
        if (vocab != GPT2Tokenizer.VOCAB_SIZE) {
            throw new CheckpointException(loaded.config(), null, "vocab_size " + vocab + " is not the GPT-2 tokenizer's "
                    + GPT2Tokenizer.VOCAB_SIZE + " (ids 0.." + (GPT2Tokenizer.VOCAB_SIZE - 1) + ")");
        }
        Path folder = loaded.file().toAbsolutePath().getParent().getFileName();
        String id = folder == null ? loaded.file().getFileName().toString() : folder.toString();
        return new ServedModel(loaded.model(), id, loaded.file().toString(), Layout.of(loaded.layout()),
                loaded.dtype(), loaded.loadMillis());
    }

    /** A preset's model, initialised as {@code torch.manual_seed(seed)} does. */
    public static ServedModel randomInit(GPTModel model, String preset, long seed, long loadMillis) {
        return new ServedModel(model, preset, "preset " + preset + ", seed " + seed, Layout.RANDOM_INIT, "F32",
                loadMillis);
    }
}
