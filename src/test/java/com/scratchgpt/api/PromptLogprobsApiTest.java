package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;
import com.scratchgpt.InspectionReference;

import tools.jackson.databind.JsonNode;

/**
 * /v1/completions scoring its prompt, echo with logprobs, as the legacy OpenAI API did and as lm-evaluation-harness's
 * local-completions reads it, over real HTTP on the default (seed-123) model: the log-probabilities /generate reports
 * for the same tokens, PyTorch's loss of each prompt token, the first token's nulls, offsets into the text, several
 * prompts and choices, and what is refused.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PromptLogprobsApiTest {

    static final int[] HELLO_I_AM = {15496, 11, 314, 716};

    @LocalServerPort
    int port;
    HttpTestClient http;

    @BeforeEach
    void client() {
        http = new HttpTestClient(port);
    }

    @Test
    void echoGivesTheLogprobsGenerateReportedForTheSameTokens() {
        JsonNode generated = ok(http.postJson("/generate", "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 6, \"logprobs\": 5}"));
        int[] continuation = ints(generated.get("generatedTokens"));
        int[] text = IntStream.concat(IntStream.of(HELLO_I_AM), IntStream.of(continuation)).toArray();
        JsonNode choice = completion("{\"prompt\": " + json(text) + ", \"echo\": true, \"logprobs\": 5, \"max_tokens\": 0, "
                + "\"temperature\": 0}").get("choices").get(0);
        assertThat(choice.get("text").asString()).isEqualTo("Hello, I am Featureiman Byeswickattribute argue");
        JsonNode lp = choice.get("logprobs");
        assertThat(lp.get("token_logprobs")).hasSize(text.length);
        for (int s = 0; s < continuation.length; s++) {
            JsonNode reported = generated.get("logprobs").get(s);
            int i = HELLO_I_AM.length + s;
            double scored = lp.get("token_logprobs").get(i).asDouble();
            JsonNode top = lp.get("top_logprobs").get(i);
            assertThat(lp.get("tokens").get(i).asString()).isEqualTo(reported.get("text").asString());
            assertThat(scored).as("token %d", i).isCloseTo(reported.get("logprob").asDouble(), within(1e-4));
            assertThat(top).hasSize(5);
            for (JsonNode alternative : reported.get("top")) {
                if (top.has(alternative.get("text").asString())) {
                    assertThat(top.get(alternative.get("text").asString()).asDouble()).as("token %d's alternative", i)
                            .isCloseTo(alternative.get("logprob").asDouble(), within(1e-4));
                }
            }
            // lm-evaluation-harness's is_greedy: the token's log-probability equals the largest of top_logprobs
            assertThat(scored).as("token %d was generated greedily", i).isEqualTo(max(top));
        }
    }

    @Test
    void eachPromptTokensLogprobIsMinusPyTorchsLossOfIt() {
        InspectionReference hello = InspectionReference.of("gpt2-small-seed123");
        double[] loss = hello.perTokenLoss();
        JsonNode lp = completion("{\"prompt\": \"Hello, I am\", \"echo\": true, \"logprobs\": 1, \"max_tokens\": 0, "
                + "\"temperature\": 0}").get("choices").get(0).get("logprobs");
        double sum = 0;
        for (int i = 0; i < loss.length; i++) {
            double logprob = lp.get("token_logprobs").get(i + 1).asDouble();
            assertThat(logprob).as("token %d", i + 1).isCloseTo(-loss[i], within(1e-3));
            assertThat(max(lp.get("top_logprobs").get(i + 1))).as("the likeliest token after position %d", i)
                    .isCloseTo(Math.log(hello.mostLikelyNext(i).get(1).asDouble()), within(1e-3));
            sum -= logprob;
        }
        // the book's calc_loss_batch: the mean cross-entropy of every token after the first
        assertThat(sum / loss.length).isCloseTo(11.079214552451406, within(1e-3));
    }

    @Test
    void maxTokensZeroScoresThePromptAloneWithTheFirstTokenNull() {
        JsonNode answer = completion("{\"prompt\": \"Hello, I am\", \"echo\": true, \"logprobs\": 2, \"max_tokens\": 0, "
                + "\"temperature\": 0}");
        JsonNode choice = answer.get("choices").get(0);
        assertThat(choice.get("text").asString()).isEqualTo("Hello, I am");
        assertThat(choice.get("finish_reason").asString()).isEqualTo("length");
        assertThat(answer.get("usage").get("prompt_tokens").asInt()).isEqualTo(4);
        assertThat(answer.get("usage").get("completion_tokens").asInt()).isZero();
        JsonNode lp = choice.get("logprobs");
        assertThat(strings(lp.get("tokens"))).containsExactly("Hello", ",", " I", " am");
        assertThat(lp.get("token_logprobs").get(0).isNull()).as("nothing predicts the first token").isTrue();
        assertThat(lp.get("top_logprobs").get(0).isNull()).isTrue();
        assertThat(ints(lp.get("text_offset"))).containsExactly(0, 5, 6, 8);
        for (int i = 1; i < 4; i++) {
            JsonNode top = lp.get("top_logprobs").get(i);
            assertThat(top).hasSize(2);
            assertThat(top.properties().iterator().next().getValue().asDouble()).as("the first is the likeliest")
                    .isEqualTo(max(top)).isGreaterThanOrEqualTo(lp.get("token_logprobs").get(i).asDouble());
        }
    }

    @Test
    void offsetsPointIntoTheTextThroughSplitCharactersAndTheCompletion() {
        String prompt = "Caf\u00e9 \ud83d\ude00 na\u00efve \u4e2d\u6587:";
        int promptTokens = http.postJson("/tokenize", "{\"text\": \"" + prompt + "\"}").json().get("tokens").size();
        JsonNode choice = completion("{\"prompt\": \"" + prompt + "\", \"echo\": true, \"logprobs\": 0, \"max_tokens\": 4, "
                + "\"temperature\": 0}").get("choices").get(0);
        String text = choice.get("text").asString();
        JsonNode lp = choice.get("logprobs");
        List<String> tokens = strings(lp.get("tokens"));
        int[] offsets = ints(lp.get("text_offset"));
        assertThat(text).startsWith(prompt);
        assertThat(tokens).hasSize(promptTokens + 4);
        assertThat(offsets[promptTokens]).as("the completion starts after the prompt").isEqualTo(prompt.length());
        assertThat(tokens.subList(0, promptTokens)).as("the emoji and the Chinese characters span tokens")
                .anyMatch(t -> t.contains("\ufffd"));
        for (int i = 0; i < tokens.size(); i++) {
            assertThat(offsets[i]).isBetween(i == 0 ? 0 : offsets[i - 1], text.length());
            if (!tokens.get(i).contains("\ufffd")) {
                assertThat(text.startsWith(tokens.get(i), offsets[i])).as("token %d %s at %d", i, tokens.get(i), offsets[i])
                        .isTrue();
            }
            assertThat(lp.get("top_logprobs").get(i).isNull() || lp.get("top_logprobs").get(i).isEmpty())
                    .as("logprobs 0: no alternatives").isTrue();
        }
    }

    @Test
    void lmEvaluationHarnessBatchesScoreEachPromptAsAlone() {
        // what local-completions sends to compute loglikelihood and is_greedy
        int[] other = {6109, 3626, 6100, 345};
        JsonNode answer = completion("{\"model\": \"gpt2-small\", \"prompt\": [" + json(HELLO_I_AM) + ", " + json(other)
                + "], \"temperature\": 0, \"max_tokens\": 1, \"logprobs\": 1, \"seed\": 1234, \"echo\": true}");
        assertThat(answer.get("choices")).hasSize(2);
        int index = 0;
        for (int[] prompt : new int[][] {HELLO_I_AM, other}) {
            JsonNode lp = answer.get("choices").get(index++).get("logprobs");
            JsonNode alone = completion("{\"prompt\": " + json(prompt) + ", \"echo\": true, \"logprobs\": 1, \"max_tokens\": 0}")
                    .get("choices").get(0).get("logprobs");
            assertThat(lp.get("token_logprobs")).as("the prompt's tokens and the generated one").hasSize(prompt.length + 1);
            assertThat(lp.get("token_logprobs").get(0).isNull()).isTrue();
            for (int i = 1; i < prompt.length; i++) {
                assertThat(lp.get("token_logprobs").get(i).asDouble())
                        .isCloseTo(alone.get("token_logprobs").get(i).asDouble(), within(1e-4));
            }
            // temperature 0: the generated token is the likeliest
            assertThat(lp.get("token_logprobs").get(prompt.length).asDouble()).isEqualTo(max(lp.get("top_logprobs")
                    .get(prompt.length)));
        }
    }

    @Test
    void everyChoiceOfAPromptBeginsWithThePromptsLogprobs() {
        JsonNode choices = completion("{\"prompt\": \"Hello, I am\", \"echo\": true, \"logprobs\": 1, \"max_tokens\": 3, "
                + "\"n\": 3, \"seed\": 9}").get("choices");
        assertThat(choices).hasSize(3);
        JsonNode first = choices.get(0).get("logprobs");
        for (JsonNode choice : choices) {
            JsonNode lp = choice.get("logprobs");
            assertThat(choice.get("text").asString()).startsWith("Hello, I am");
            assertThat(lp.get("tokens")).hasSize(7);
            for (String column : new String[] {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) {
                for (int i = 0; i < 4; i++) {
                    assertThat(lp.get(column).get(i)).as("%s[%d] of choice %d", column, i, choice.get("index").asInt())
                            .isEqualTo(first.get(column).get(i));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "echo     | stream true                 | {\"prompt\": \"Hi\", \"echo\": true, \"logprobs\": 1, \"stream\": true}",
        "logprobs | more than 20 alternatives   | {\"prompt\": \"Hi\", \"echo\": true, \"logprobs\": 21, \"max_tokens\": 0}",
    })
    void whatCannotBeScoredIsRefusedNamingTheField(String field, String why, String body) {
        JsonNode problem = ProblemAssertions.assertProblem(http.postJson("/v1/completions", body.strip()), 400);
        assertThat(problem.get("error").get("param").asString()).as(why).isEqualTo(field);
    }

    @ParameterizedTest(name = "{0} tokens, max_tokens {1}")
    @CsvSource({"1026, 0", "1025, 1"})
    void aPromptTheModelCannotReadInOneWindowCannotBeScored(int length, int maxTokens) {
        int[] prompt = new int[length];
        Arrays.fill(prompt, 15496);
        var r = http.postJson("/v1/completions", "{\"prompt\": " + json(prompt) + ", \"echo\": true, \"logprobs\": 1, "
                + "\"max_tokens\": " + maxTokens + "}");
        JsonNode problem = ProblemAssertions.assertProblem(r, 400);
        assertThat(problem.get("error").get("param").asString()).isEqualTo("prompt");
        assertThat(problem.get("detail").asString()).contains("1024-token context").contains(length + " tokens");
    }

    @Test
    void theDocumentedScoringExampleWorks() {
        JsonNode examples = http.get("/v3/api-docs").json().get("paths").get("/v1/completions").get("post")
                .get("requestBody").get("content").get("application/json").get("examples");
        List<String> names = new ArrayList<>();
        examples.properties().forEach(e -> {
            names.add(e.getKey());
            assertThat(http.postJson("/v1/completions", e.getValue().get("value").toString()).status()).as(e.getKey())
                    .isEqualTo(200);
        });
        assertThat(names).anyMatch(n -> n.contains("scoring"));
    }

    private JsonNode completion(String body) {
        return ok(http.postJson("/v1/completions", body));
    }

    private static JsonNode ok(HttpTestClient.Response r) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    private static double max(JsonNode top) {
        double max = Double.NEGATIVE_INFINITY;
        for (JsonNode v : top) {
            max = Math.max(max, v.asDouble());
        }
        return max;
    }

    private static String json(int[] tokens) {
        return Arrays.toString(tokens);
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(s -> out.add(s.asString()));
        return out;
    }
}
