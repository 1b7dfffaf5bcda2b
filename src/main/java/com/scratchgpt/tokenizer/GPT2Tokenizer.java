package com.scratchgpt.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/**
 * GPT-2's tokenizer (r50k_base). Text is encoded as ordinary text: the characters
 * {@code <|endoftext|>} in a prompt are plain text, and the end-of-text token is the id {@link #END_OF_TEXT}.
 */
public final class GPT2Tokenizer {

    /** {@code <|endoftext|>}. */
    public static final int END_OF_TEXT = 50256;
    public static final int VOCAB_SIZE = 50257;
    private static final byte[] END_OF_TEXT_BYTES = "<|endoftext|>".getBytes(StandardCharsets.UTF_8);

    // the lazy registry reads r50k_base alone (about 45 ms); the default one reads every encoding jtokkit
    // knows, o200k_base and cl100k_base included (0.5 to 1 s and their tables kept in memory)
    private final Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    /** The bytes a token stands for. */
    public byte[] tokenBytes(int token) {
        if (token == END_OF_TEXT) {
            return END_OF_TEXT_BYTES.clone();
        }
        if (token < 0 || token >= VOCAB_SIZE) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary 0.." + (VOCAB_SIZE - 1));
        }
        IntArrayList one = new IntArrayList(1);
        one.add(token);
        return encoding.decodeBytes(one);
    }

    public byte[] decodeBytes(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokens.length * 4);
        for (int t : tokens) {
            out.writeBytes(tokenBytes(t));
        }
        return out.toByteArray();
    }

    /** Decodes the tokens' bytes as UTF-8 as a whole, so a character split across tokens comes out whole. */
    public String decode(int[] tokens) {
        return new String(decodeBytes(tokens), StandardCharsets.UTF_8);
    }

    /** The text of one token on its own (an incomplete UTF-8 sequence shows as U+FFFD). */
    public String tokenText(int token) {
        return new String(tokenBytes(token), StandardCharsets.UTF_8);
    }

    /**
     * Where each token's text starts in {@link #decode} of them all, in chars (String indices): a token that begins
     * inside a character split across tokens starts where that character does.
     */
    public int[] textOffsets(int[] tokens) {
        byte[] bytes = decodeBytes(tokens);
        int[] offsets = new int[tokens.length];
        int start = 0;   // the token's first byte
        int decoded = 0; // bytes of whole characters counted so far
        int chars = 0;
        for (int i = 0; i < tokens.length; i++) {
            int whole = Math.max(decoded, completeUtf8Prefix(bytes, start));
            chars += new String(bytes, decoded, whole - decoded, StandardCharsets.UTF_8).length();
            decoded = whole;
            offsets[i] = chars;
            start += tokenBytes(tokens[i]).length;
        }
        return offsets;
    }

    /**
     * The length of the longest prefix of these bytes that is complete UTF-8: what a stream may emit
     * now without cutting a character in half.
     */
    public static int completeUtf8Prefix(byte[] bytes, int length) {
        // walk back over at most 3 continuation bytes to the last lead byte
        int i = length - 1;
        int back = 0;
        while (i >= 0 && back < 3 && (bytes[i] & 0xC0) == 0x80) {
            i--;
            back++;
        }
        if (i < 0) {
            return length;
        }
        int lead = bytes[i] & 0xFF;
        int needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return (length - i) >= needed ? length : i;
    }
}
