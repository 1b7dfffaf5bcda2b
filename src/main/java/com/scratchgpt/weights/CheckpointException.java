package com.scratchgpt.weights;

import java.nio.file.Path;

/**
 * A weights file that cannot be served; the message names the file, the tensor (when there is one) and the
 * problem, on one line: names come from the file, so control characters are escaped and long names cut.
 */
public class CheckpointException extends RuntimeException {

    /** Longer names (a tensor name, a global) are cut in messages: a name from the file may be megabytes long. */
    static final int MAX_NAME = 200;

    public CheckpointException(Path file, String tensor, String problem) {
        super(message(file, tensor, problem));
    }

    public CheckpointException(Path file, String tensor, String problem, Throwable cause) {
        super(message(file, tensor, problem), cause);
    }

    private static String message(Path file, String tensor, String problem) {
        return oneLine(file + (tensor == null ? "" : ": tensor '" + printable(tensor) + "'") + ": " + problem);
    }

    /** A name from the file as it may appear in a message: at most {@link #MAX_NAME} characters, on one line. */
    static String printable(String name) {
        return oneLine(name.length() > MAX_NAME ? name.substring(0, MAX_NAME) + "..." : name);
    }

    private static String oneLine(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F || c == 0x85 || c == 0x2028 || c == 0x2029) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
