package com.scratchgpt.weights;

import java.nio.file.Path;

/** A weights file that cannot be served; the message names the file, the tensor (when there is one) and the problem. */
public class CheckpointException extends RuntimeException {

    public CheckpointException(Path file, String tensor, String problem) {
        super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + problem);
    }

    public CheckpointException(Path file, String tensor, String problem, Throwable cause) {
        super(file + (tensor == null ? "" : ": tensor '" + tensor + "'") + ": " + problem, cause);
    }
}
