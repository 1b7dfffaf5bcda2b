package com.scratchgpt.api;

/**
 * The one check that text sent by a client is Unicode: JSON's {@code \ud800} escapes can spell half a surrogate
 * pair, which no UTF-8 text holds, and which would come back in the answer as JSON no strict reader takes.
 * Such text is refused, naming the field, rather than repaired behind the client's back.
 */
final class WellFormedText {

    private WellFormedText() {
    }

    static void check(String field, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidFieldException(field, String.format("is not valid Unicode: a lone surrogate \\u%04x at "
                        + "character %d; send whole characters", (int) c, i));
            }
        }
    }
}
