package com.scratchgpt.generation;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import com.scratchgpt.tokenizer.GPT2Tokenizer;

/**
 * The generated text as it grows token by token: decodes only whole UTF-8 characters, finds stop
 * sequences across token boundaries, and releases text for streaming only once it can no longer turn
 * out to be part of a stop sequence.
 */
final class Continuation {

    private final List<String> stops;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private int released;        // chars of text already handed out
    private String stoppedText;  // the final text once a stop sequence was found

    Continuation(List<String> stops) {
        this.stops = stops;
    }

    /** Appends a token's bytes; returns the text that became final (possibly empty). */
    String append(byte[] tokenBytes) {
        bytes.writeBytes(tokenBytes);
        byte[] all = bytes.toByteArray();
        String complete = new String(all, 0, GPT2Tokenizer.completeUtf8Prefix(all, all.length), StandardCharsets.UTF_8);
        int stopAt = firstStop(complete);
        if (stopAt >= 0) {
            stoppedText = complete.substring(0, stopAt);
            return release(stoppedText, stopAt);
        }
        return release(complete, complete.length() - heldBack(complete));
    }

    /** All text not yet released; called once when generation ends without a stop sequence. */
    String finish() {
        String text = text();
        return release(text, text.length());
    }

    boolean stopped() {
        return stoppedText != null;
    }

    /** The continuation's text: everything up to the stop sequence, if one was found. */
    String text() {
        return stoppedText != null ? stoppedText : bytes.toString(StandardCharsets.UTF_8);
    }

    /** UTF-8 length of the final text: tokens starting at or after it are not part of the result. */
    int textBytes() {
        return text().getBytes(StandardCharsets.UTF_8).length;
    }

    private String release(String text, int end) {
        if (end <= released) {
            return "";
        }
        String out = text.substring(released, end);
        released = end;
        return out;
    }

    private int firstStop(String text) {
        int first = -1;
        for (String stop : stops) {
            int at = text.indexOf(stop, Math.max(0, released - stop.length()));
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        return first;
    }

    /** Length of the longest end of the text that could still grow into a stop sequence. */
    private int heldBack(String text) {
        int held = 0;
        for (String stop : stops) {
            for (int len = Math.min(stop.length() - 1, text.length()); len > held; len--) {
                if (text.regionMatches(text.length() - len, stop, 0, len)) {
                    held = len;
                    break;
                }
            }
        }
        return held;
    }
}
