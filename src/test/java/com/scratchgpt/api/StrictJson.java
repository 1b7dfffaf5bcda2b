package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/** JSON as the strictest clients read it: UTF-8 bytes, and strings of whole characters (no lone surrogate escape). */
final class StrictJson {

    private StrictJson() {
    }

    static JsonNode parse(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("the answer is not UTF-8", e);
        }
        JsonNode json = HttpTestClient.parse(text);
        assertWholeCharacters(json);
        return json;
    }

    private static void assertWholeCharacters(JsonNode node) {
        if (node.isString()) {
            assertWholeCharacters(node.asString());
        } else if (node.isObject()) {
            node.propertyNames().forEach(name -> {
                assertWholeCharacters(name);
                assertWholeCharacters(node.get(name));
            });
        } else if (node.isArray()) {
            node.values().forEach(StrictJson::assertWholeCharacters);
        }
    }

    private static void assertWholeCharacters(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else {
                assertThat(Character.isSurrogate(s.charAt(i))).as("a lone surrogate in %s", s).isFalse();
            }
        }
    }
}
