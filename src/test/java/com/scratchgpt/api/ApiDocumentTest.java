package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.DataObjectPropertyName;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.GptProperties;
import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * docs/API.md stays true to the running service: every path and operation of the live OpenAPI document
 * has its section there and every section names a real operation; every request and response field
 * appears in its operation's section, every error field in "Errors"; every {@code gpt.*} setting of
 * GptProperties and every published {@code gpt.*} metric is listed, and no setting is listed that the
 * service does not have. "Coming" (the contract's names not served yet) is left out of the comparison.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ApiDocumentTest {

    private static final Path API_MD = Path.of("docs/API.md");
    private static final Pattern HEADING = Pattern.compile("^(#{2,3}) (.+)$", Pattern.MULTILINE);
    private static final Pattern OPERATION = Pattern.compile("(GET|POST|PUT|PATCH|DELETE) (/\\S*)");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern WORD = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /**
     * Library types springdoc describes by introspecting their getters (Jackson's JsonNode for the
     * free-form OpenAI fields, SseEmitter for a stream): their "properties" are not the API's.
     */
    private static final Set<String> LIBRARY_SCHEMAS = Set.of("JsonNode", "SseEmitter");

    @LocalServerPort
    int port;

    private JsonNode openApi;
    private Map<String, String> sections;

    @BeforeEach
    void read() throws IOException {
        openApi = new HttpTestClient(port).get("/v3/api-docs").json();
        String markdown = Files.readString(API_MD);
        int coming = markdown.indexOf("\n## Coming");
        sections = sections(coming < 0 ? markdown : markdown.substring(0, coming));
    }

    @Test
    void everyOperationHasItsSectionAndEverySectionIsAnOperation() {
        Set<String> served = new TreeSet<>();
        openApi.get("paths").properties().forEach(path -> path.getValue().propertyNames()
                .forEach(method -> served.add(method.toUpperCase() + " " + path.getKey())));
        Set<String> documented = new TreeSet<>();
        sections.keySet().forEach(heading -> {
            Matcher m = OPERATION.matcher(heading);
            if (m.matches()) {
                documented.add(heading);
            }
        });
        assertThat(documented).as("operations with a section in %s", API_MD).containsAll(served);
        assertThat(served).as("operations of /v3/api-docs, against the sections of %s", API_MD).containsAll(documented);
    }

    @Test
    void everyRequestAndResponseFieldIsInItsOperationsSection() {
        openApi.get("paths").properties().forEach(path -> path.getValue().properties().forEach(op -> {
            String heading = op.getKey().toUpperCase() + " " + path.getKey();
            Set<String> fields = new TreeSet<>();
            JsonNode body = op.getValue().path("requestBody").path("content");
            body.forEach(media -> collectFields(media.path("schema"), fields, new HashSet<>()));
            op.getValue().path("responses").properties().stream().filter(r -> r.getKey().startsWith("2"))
                    .forEach(r -> r.getValue().path("content").forEach(media -> collectFields(media.path("schema"), fields,
                            new HashSet<>())));
            assertThat(words(sections.getOrDefault(heading, ""))).as("fields named in the section %s", heading)
                    .containsAll(fields);
        }));
    }

    @Test
    void everyErrorFieldIsInErrors() {
        Set<String> fields = new TreeSet<>();
        openApi.get("paths").forEach(path -> path.forEach(op -> op.path("responses").properties().stream()
                .filter(r -> !r.getKey().startsWith("2"))
                .forEach(r -> r.getValue().path("content").forEach(media -> collectFields(media.path("schema"), fields,
                        new HashSet<>())))));
        assertThat(fields).as("the problem's fields in /v3/api-docs").contains("status", "title", "detail");
        assertThat(words(sections.get("Errors"))).as("fields named in Errors").containsAll(fields);
    }

    @Test
    void everySettingIsListedAndNoneThatDoesNotExist() {
        Set<String> settings = new TreeSet<>();
        collectSettings("gpt", GptProperties.class, settings);
        Set<String> listed = new TreeSet<>();
        codeSpans(sections.get("Settings")).stream().filter(s -> s.startsWith("gpt.")).forEach(listed::add);
        assertThat(listed).as("gpt.* settings listed in Settings").containsAll(settings);
        assertThat(settings).as("settings of GptProperties, against those listed in Settings").containsAll(listed);
    }

    @Test
    void everyPublishedMetricIsListed() {
        Set<String> published = new TreeSet<>();
        new HttpTestClient(port).get("/actuator/metrics").json().get("names").forEach(n -> {
            if (n.asString().startsWith("gpt.")) {
                published.add(n.asString());
            }
        });
        assertThat(published).as("gpt.* metrics published").contains("gpt.generation.duration", "gpt.model.parameters");
        assertThat(codeSpans(sections.get("Metrics"))).as("metrics listed in Metrics").containsAll(published);
    }

    /** Each property name of a schema, following references, arrays and compositions. */
    private void collectFields(JsonNode schema, Set<String> fields, Set<String> seen) {
        if (schema == null || schema.isMissingNode()) {
            return;
        }
        if (schema.has("$ref")) {
            String name = schema.get("$ref").asString().substring("#/components/schemas/".length());
            if (!LIBRARY_SCHEMAS.contains(name) && seen.add(name)) {
                collectFields(openApi.get("components").get("schemas").get(name), fields, seen);
            }
            return;
        }
        schema.path("properties").properties().forEach(p -> {
            fields.add(p.getKey());
            collectFields(p.getValue(), fields, seen);
        });
        collectFields(schema.path("items"), fields, seen);
        for (String composition : List.of("allOf", "oneOf", "anyOf")) {
            schema.path(composition).forEach(s -> collectFields(s, fields, seen));
        }
    }

    /** gpt.* property names as Spring binds them: each record component in its dashed form. */
    private static void collectSettings(String prefix, Class<?> type, Set<String> settings) {
        for (RecordComponent c : type.getRecordComponents()) {
            String name = prefix + "." + DataObjectPropertyName.toDashedForm(c.getName());
            if (c.getType().isRecord()) {
                collectSettings(name, c.getType(), settings);
            } else {
                settings.add(name);
            }
        }
    }

    /** The text under each heading (## or ###), up to the next heading of the same or a higher level. */
    private static Map<String, String> sections(String markdown) {
        List<int[]> marks = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        Matcher m = HEADING.matcher(markdown);
        while (m.find()) {
            marks.add(new int[] {m.start(), m.end(), m.group(1).length()});
            titles.add(m.group(2).trim());
        }
        Map<String, String> sections = new LinkedHashMap<>();
        for (int i = 0; i < marks.size(); i++) {
            int end = markdown.length();
            for (int j = i + 1; j < marks.size(); j++) {
                if (marks.get(j)[2] <= marks.get(i)[2]) {
                    end = marks.get(j)[0];
                    break;
                }
            }
            sections.put(titles.get(i), markdown.substring(marks.get(i)[1], end));
        }
        return sections;
    }

    private static List<String> codeSpans(String text) {
        List<String> spans = new ArrayList<>();
        Matcher m = CODE.matcher(text == null ? "" : text);
        while (m.find()) {
            spans.add(m.group(1));
        }
        return spans;
    }

    /** Every name written in code spans: {@code usage.promptTokens} gives usage and promptTokens. */
    private static Set<String> words(String text) {
        Set<String> words = new HashSet<>();
        for (String span : codeSpans(text)) {
            Matcher m = WORD.matcher(span);
            while (m.find()) {
                words.add(m.group());
            }
        }
        return words;
    }
}
