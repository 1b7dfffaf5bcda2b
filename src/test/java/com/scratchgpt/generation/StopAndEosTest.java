package com.scratchgpt.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.scratchgpt.model.GPTConfig;
import com.scratchgpt.model.GPTModel;
import com.scratchgpt.model.Tensor;
import com.scratchgpt.model.TestModels;
import com.scratchgpt.model.TorchInitializer;
import com.scratchgpt.tokenizer.GPT2Tokenizer;

/** Stop sequences matched on text across token boundaries, and the end-of-text token. */
class StopAndEosTest {

    static final GPT2Tokenizer TOKENIZER = new GPT2Tokenizer();
    static final int[] PROMPT = TOKENIZER.encode("Hello, I am");

    @Test
    void aStopSequenceSpanningTwoTokensEndsTheTextBeforeIt() {
        // greedy continuation: " Feature" "iman" " Bye" "swick" "attribute" " argue"
        List<String> streamed = new ArrayList<>();
        try (BatchScheduler scheduler = TestModels.scheduler(TestModels.seed123())) {
            GenerationResult r = scheduler.submit(
                    new GenerationRequest(PROMPT, 6, 0.0, null, null, null, List.of("iman By"), null),
                    (i, t, text) -> streamed.add(text), Long.MAX_VALUE / 4).join();
            assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(r.generatedText()).isEqualTo(" Feature");
            assertThat(r.generatedTokens()).containsExactly(27018);
            assertThat(String.join("", streamed)).isEqualTo(" Feature");
        }
    }

    @Test
    void aStopSequenceThatNeverCompletesIsReleasedAtTheEnd() {
        List<String> streamed = new ArrayList<>();
        try (BatchScheduler scheduler = TestModels.scheduler(TestModels.seed123())) {
            GenerationResult r = scheduler.submit(
                    new GenerationRequest(PROMPT, 6, 0.0, null, null, null, List.of(" argument"), null),
                    (i, t, text) -> streamed.add(text), Long.MAX_VALUE / 4).join();
            assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(r.generatedText()).isEqualTo(" Featureiman Byeswickattribute argue");
            // " argue" could have grown into " argument": it is held back until the end
            assertThat(streamed.get(5)).isEqualTo(" argue");
            assertThat(String.join("", streamed)).isEqualTo(r.generatedText());
        }
    }

    @Test
    void theEndOfTextTokenEndsGenerationWithEos() {
        // a model whose head always prefers <|endoftext|>: the final norm outputs its shift (all ones),
        // and only the head's row 50256 is non-zero
        GPTConfig cfg = new GPTConfig(50257, 16, 8, 2, 1, 0.0, false);
        GPTModel random = TorchInitializer.initialize(cfg, 1);
        Map<String, Tensor> p = random.parameters();
        FloatBuffer scale = p.get("final_norm.scale").buffer();
        FloatBuffer shift = p.get("final_norm.shift").buffer();
        FloatBuffer head = p.get("out_head.weight").buffer();
        for (int i = 0; i < 8; i++) {
            scale.put(i, 0f);
            shift.put(i, 1f);
        }
        for (int i = 0; i < head.capacity(); i++) {
            head.put(i, i / 8 == GPT2Tokenizer.END_OF_TEXT ? 1f : 0f);
        }
        try (BatchScheduler scheduler = new BatchScheduler(random, TOKENIZER,
                new BatchScheduler.Limits(1, 1, 1, 16, 16), GenerationObserver.NONE)) {
            GenerationResult r = scheduler.generate(GenerationRequest.greedy(PROMPT, 5));
            assertThat(r.finishReason()).isEqualTo(FinishReason.EOS);
            assertThat(r.generatedTokens()).containsExactly(GPT2Tokenizer.END_OF_TEXT);
            assertThat(r.generatedText()).isEmpty();
        }
    }

    @Test
    void charactersSplitAcrossTokensAreNeverReleasedHalfWay() {
        Continuation text = new Continuation(List.of());
        byte[] euro = "€".getBytes(java.nio.charset.StandardCharsets.UTF_8); // 3 bytes
        assertThat(text.append(new byte[] {'a', euro[0]})).isEqualTo("a");
        assertThat(text.append(new byte[] {euro[1]})).isEmpty();
        assertThat(text.append(new byte[] {euro[2], 'b'})).isEqualTo("€b");
        assertThat(text.finish()).isEmpty();
        assertThat(text.text()).isEqualTo("a€b");
    }
}
