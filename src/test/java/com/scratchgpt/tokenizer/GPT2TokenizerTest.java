package com.scratchgpt.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GPT-2's BPE as the book's chapter 2 uses it (tiktoken's "gpt2"): the book's token ids, round trips,
 * {@code <|endoftext|>}, and every byte sequence representable.
 */
class GPT2TokenizerTest {

    private static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();

    @Test
    void encodesHelloIAmAsTheBookPrints() {
        assertThat(TOKENIZER.encode("Hello, I am")).containsExactly(15496, 11, 314, 716);
    }

    /**
     * Section 2.5's example. The book encodes it with allowed_special={"<|endoftext|>"}; the service encodes
     * prompts as ordinary text, so the same ids come from the text on either side of the marker plus the
     * end-of-text id, and 50256 decodes to the marker.
     */
    @Test
    void theBooksEndOfTextExampleDecodesFromTheBooksIdsAndEncodesAroundTheMarker() {
        // "terracesof": the book's two string literals meet without a space
        String text = "Hello, do you like tea? <|endoftext|> In the sunlit terracesof someunknownPlace.";
        int[] bookIds = {15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114, 1659, 617,
            34680, 27271, 13};

        assertThat(TOKENIZER.decode(bookIds)).isEqualTo(text);
        int[] before = TOKENIZER.encode("Hello, do you like tea? ");
        int[] after = TOKENIZER.encode(" In the sunlit terracesof someunknownPlace.");
        int[] joined = IntStream.concat(IntStream.concat(Arrays.stream(before), IntStream.of(GPT2Tokenizer.END_OF_TEXT)),
                Arrays.stream(after)).toArray();
        assertThat(joined).containsExactly(bookIds);
    }

    @Test
    void endOfTextInAPromptIsOrdinaryTextAndOnlyTheIdIsTheToken() {
        int[] ids = TOKENIZER.encode("<|endoftext|>");

        assertThat(ids).doesNotContain(GPT2Tokenizer.END_OF_TEXT).hasSizeGreaterThan(1);
        assertThat(TOKENIZER.decode(ids)).isEqualTo("<|endoftext|>");
        assertThat(TOKENIZER.tokenText(GPT2Tokenizer.END_OF_TEXT)).isEqualTo("<|endoftext|>");
    }

    @Test
    void textOffsetsPointIntoTheDecodedTextAndASplitCharacterCountsOnce() {
        assertThat(TOKENIZER.textOffsets(new int[] {15496, 11, 314, 716})).containsExactly(0, 5, 6, 8);
        String text = "caf\u00e9 \ud83d\ude00 \u4e2d\u6587 ok";
        int[] ids = TOKENIZER.encode(text);
        int[] offsets = TOKENIZER.textOffsets(ids);
        int split = 0;
        for (int i = 0; i < ids.length; i++) {
            String piece = TOKENIZER.tokenText(ids[i]);
            if (piece.contains("\ufffd")) {
                split++;
                // a token inside a split character starts where the character does
                assertThat(Character.isLowSurrogate(text.charAt(offsets[i]))).as("token %d", i).isFalse();
            } else {
                assertThat(text.startsWith(piece, offsets[i])).as("token %d %s at %d", i, piece, offsets[i]).isTrue();
            }
            assertThat(offsets[i]).isBetween(i == 0 ? 0 : offsets[i - 1], text.length());
        }
        assertThat(split).as("the emoji and the Chinese characters span tokens").isPositive();
        assertThat(TOKENIZER.textOffsets(new int[0])).isEmpty();
    }

    @Test
    void unknownWordsSplitIntoSubwordsAsInExercise21() {
        int[] ids = TOKENIZER.encode("Akwirw ier");

        assertThat(ids).containsExactly(33901, 86, 343, 86, 220, 959);
        assertThat(Arrays.stream(ids).mapToObj(TOKENIZER::tokenText)).containsExactly("Ak", "w", "ir", "w", " ", "ier");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "The quick brown fox jumps over the lazy dog. 0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "naïve café, Ærøskøbing, Привет мир, 你好，世界, こんにちは, مرحبا, שלום, ∑ ∫ √ ≠ ∞",
        "🤖 robots 👩🏽‍💻 and flags 🇫🇷🇯🇵, combining e\u0301",
        "two  spaces, three   spaces,\ttab\t\ttabs\nnewline\n\n\nlines\r\nwindows   \n  trailing   ",
        "\u0000control\u0001\u007f\u00a0nbsp\u2028line separator\ufeffbom"})
    void textRoundTripsExactly(String text) {
        assertThat(TOKENIZER.decode(TOKENIZER.encode(text))).isEqualTo(text);
        assertThat(TOKENIZER.decodeBytes(TOKENIZER.encode(text))).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anEmojiSplitAcrossTokensComesOutWholeOnlyWhenItsLastTokenArrives() {
        String robot = "🤖";
        int[] ids = TOKENIZER.encode(robot);
        assertThat(ids).as("the emoji's four bytes take several tokens").hasSizeGreaterThan(1);
        assertThat(TOKENIZER.tokenText(ids[0])).as("a token alone is part of a character").contains("\uFFFD");

        // a stream emits the complete UTF-8 prefix of what it has: nothing until the character is whole
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < ids.length; i++) {
            bytes.writeBytes(TOKENIZER.tokenBytes(ids[i]));
            int complete = GPT2Tokenizer.completeUtf8Prefix(bytes.toByteArray(), bytes.size());
            assertThat(complete).as("after token %d of %d", i + 1, ids.length).isEqualTo(i == ids.length - 1 ? 4 : 0);
        }
        assertThat(TOKENIZER.decode(ids)).isEqualTo(robot);
    }

    @Test
    void everyByteHasATokenSoAnyByteSequenceIsRepresentable() {
        int[] tokenOfByte = new int[256];
        Arrays.fill(tokenOfByte, -1);
        for (int id = 0; id < GPT2Tokenizer.VOCAB_SIZE; id++) {
            byte[] b = TOKENIZER.tokenBytes(id);
            if (b.length == 1) {
                tokenOfByte[b[0] & 0xFF] = id;
            }
        }
        assertThat(tokenOfByte).as("a single-byte token for each of the 256 bytes").doesNotContain(-1);

        byte[] random = new byte[4096]; // mostly invalid UTF-8
        new Random(5).nextBytes(random);
        int[] ids = new int[random.length];
        for (int i = 0; i < random.length; i++) {
            ids[i] = tokenOfByte[random[i] & 0xFF];
        }
        assertThat(TOKENIZER.decodeBytes(ids)).isEqualTo(random);
    }

    @Test
    void completeUtf8PrefixHoldsBackOnlyAnUnfinishedCharacter() {
        byte[] aRobot = "a🤖".getBytes(StandardCharsets.UTF_8); // 61 F0 9F A4 96
        assertThat(IntStream.rangeClosed(0, 5).map(n -> GPT2Tokenizer.completeUtf8Prefix(aRobot, n)))
                .containsExactly(0, 1, 1, 1, 1, 5);
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
        assertThat(IntStream.rangeClosed(0, 3).map(n -> GPT2Tokenizer.completeUtf8Prefix(euro, n)))
                .containsExactly(0, 0, 0, 3);
        byte[] e = "é".getBytes(StandardCharsets.UTF_8); // C3 A9
        assertThat(GPT2Tokenizer.completeUtf8Prefix(e, 1)).isZero();
        assertThat(GPT2Tokenizer.completeUtf8Prefix(e, 2)).isEqualTo(2);
        // stray continuation bytes can never complete a character: emitted as they are
        byte[] stray = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80};
        assertThat(GPT2Tokenizer.completeUtf8Prefix(stray, 4)).isEqualTo(4);
    }

    @Test
    void idsOutsideTheVocabularyAreRefused() {
        assertThatThrownBy(() -> TOKENIZER.tokenBytes(GPT2Tokenizer.VOCAB_SIZE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0..50256");
        assertThatThrownBy(() -> TOKENIZER.tokenBytes(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
