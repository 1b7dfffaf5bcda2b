package com.scratchgpt;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import com.scratchgpt.weights.CheckpointException;

/** Turns a weights file that cannot load into one clear start-up failure, without a stack trace. */
class CheckpointFailureAnalyzer extends AbstractFailureAnalyzer<CheckpointException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, CheckpointException cause) {
        return new FailureAnalysis("Cannot load the model weights: " + cause.getMessage(),
                "Point gpt.model.path (GPT_MODEL_PATH) at a folder with config.json and a valid model.safetensors, "
                        + "or at a .safetensors or .pth file saved from a state_dict (config.json beside it), "
                        + "or unset it to serve the randomly initialised preset.", cause);
    }
}
