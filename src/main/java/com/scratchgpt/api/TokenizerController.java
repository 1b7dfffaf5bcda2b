package com.scratchgpt.api;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import com.scratchgpt.tokenizer.GPT2Tokenizer;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;

/** GPT-2 BPE (r50k_base) both ways. */
@RestController
@Tag(name = "Tokenizer")
class TokenizerController {

    record TextBody(@Schema(example = "Hello, I am") String text) {
    }

    record TokensBody(@Schema(example = "[15496, 11, 314, 716]") int[] tokens) {
    }

    static final int MAX_TEXT_CHARS = 1_000_000;
    static final int MAX_TOKENS = 200_000;

    private final GPT2Tokenizer tokenizer;

    TokenizerController(GPT2Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Operation(summary = "Text to token ids")
    @PostMapping(path = "/tokenize", consumes = MediaType.APPLICATION_JSON_VALUE)
    TokensBody tokenize(@RequestBody TextBody body) {
        if (body.text() == null) {
            throw new InvalidFieldException("text", "is required");
        }
        if (body.text().length() > MAX_TEXT_CHARS) {
            throw new InvalidFieldException("text", "longer than " + MAX_TEXT_CHARS + " characters");
        }
        WellFormedText.check("text", body.text());
        return new TokensBody(tokenizer.encode(body.text()));
    }

    @Operation(summary = "Token ids to text")
    @PostMapping(path = "/detokenize", consumes = MediaType.APPLICATION_JSON_VALUE)
    TextBody detokenize(@RequestBody TokensBody body) {
        if (body.tokens() == null) {
            throw new InvalidFieldException("tokens", "is required");
        }
        if (body.tokens().length > MAX_TOKENS) {
            throw new InvalidFieldException("tokens", "more than " + MAX_TOKENS + " tokens");
        }
        TokenIds.check("tokens", body.tokens());
        return new TextBody(tokenizer.decode(body.tokens()));
    }
}
