package com.scratchgpt.api;

import java.util.List;
import java.util.Map;

import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.servers.Server;

/** The API's title and server, and the RFC 9457 errors every POST operation can answer, with examples. */
@Configuration(proxyBeanMethods = false)
class OpenApiDocs {

    private static final String PROBLEM = "Problem";
    private static final String JSON_TREE = "JsonNode";

    private static final Map<String, String[]> ERRORS = Map.of(
            "400", new String[] {"Invalid request: the detail names the field and says in plain words what was wrong "
                    + "(a value out of range, of the wrong JSON type, an unknown or repeated field, text that is not "
                    + "UTF-8 or holds a lone surrogate); a body that is not JSON says where it stops being JSON",
                    "{\"type\":\"about:blank\",\"title\":\"Invalid request\",\"status\":400,\"detail\":\"maxNewTokens: must be an integer\",\"instance\":\"/generate\",\"field\":\"maxNewTokens\"}"},
            "413", new String[] {"Request body over 1 MiB, by Content-Length or as it is read (chunked)",
                    "{\"type\":\"about:blank\",\"title\":\"Payload Too Large\",\"status\":413,\"detail\":\"request body: 2097152 bytes exceed the limit of 1048576 bytes\",\"instance\":\"/generate\"}"},
            "415", new String[] {"Not application/json",
                    "{\"type\":\"about:blank\",\"title\":\"Unsupported Media Type\",\"status\":415,\"detail\":\"Content-Type 'text/plain' is not supported.\",\"instance\":\"/generate\"}"},
            "429", new String[] {"Every generation slot and queue place is taken (Retry-After header)",
                    "{\"type\":\"about:blank\",\"title\":\"Too many requests\",\"status\":429,\"detail\":\"all 16 generation slots and 64 queue places are taken\",\"instance\":\"/generate\"}"},
            "503", new String[] {"The request passed gpt.generation.timeout, or the service is shutting down (Retry-After "
                    + "header); a stream already begun ends instead with an `error` event carrying this problem",
                    "{\"type\":\"about:blank\",\"title\":\"Deadline exceeded\",\"status\":503,\"detail\":\"generation passed its deadline after 812 tokens\",\"instance\":\"/generate\"}"});

    /** What /v1 answers besides: a model other than the served one, as OpenAI answers it. */
    private static final Map<String, String[]> OPENAI_ERRORS = Map.of(
            "404", new String[] {"The request names a model other than the served one (GET /v1/models lists it)",
                    "{\"type\":\"about:blank\",\"title\":\"Model not found\",\"status\":404,\"detail\":\"model: not served here; this service serves `gpt2-small` only (GET /v1/models)\",\"instance\":\"/v1/completions\",\"field\":\"model\",\"code\":\"model_not_found\","
                    + "\"error\":{\"message\":\"model: not served here; this service serves `gpt2-small` only (GET /v1/models)\",\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"}}"});

    @Bean
    OpenApiCustomizer problemResponses() {
        return api -> {
            api.info(new Info().title("ScratchGPT").version("0.1.0")
                    .description("GPT-2 (the seeds' model from Build a Large Language Model (From Scratch)) on ND4J"));
            // relative, so that "Try it out" calls the server the page came from, and no Host header a client
            // sends is written into the document
            api.servers(List.of(new Server().url("/")));
            // a field read as a JSON tree (OpenAI's prompt and stop) is described by its oneOf, not by the tree type
            api.getComponents().getSchemas().remove(JSON_TREE);
            for (Schema<?> schema : api.getComponents().getSchemas().values()) {
                if (schema.getProperties() != null) {
                    schema.getProperties().values().stream()
                            .filter(property -> ("#/components/schemas/" + JSON_TREE).equals(property.get$ref()))
                            .forEach(property -> property.set$ref(null));
                }
            }
            api.getComponents().addSchemas(PROBLEM, new ObjectSchema().description("RFC 9457 problem details")
                    .addProperty("type", new StringSchema())
                    .addProperty("title", new StringSchema())
                    .addProperty("status", new IntegerSchema())
                    .addProperty("detail", new StringSchema())
                    .addProperty("instance", new StringSchema())
                    .addProperty("field", new StringSchema().description("the request field at fault"))
                    .addProperty("error", new ObjectSchema().description("on /v1 paths: OpenAI's error object")
                            .addProperty("message", new StringSchema().description("the detail"))
                            .addProperty("type", new StringSchema().description("invalid_request_error or server_error"))
                            .addProperty("param", new StringSchema().description("the field"))
                            .addProperty("code", new StringSchema().description("model_not_found, or null"))));
            api.getPaths().forEach((name, path) -> {
                if (path.getPost() != null) {
                    ERRORS.forEach((status, text) -> addProblem(path.getPost().getResponses(), status, text));
                    if (name.startsWith("/v1/")) {
                        OPENAI_ERRORS.forEach((status, text) -> addProblem(path.getPost().getResponses(), status, text));
                    }
                }
            });
        };
    }

    private static void addProblem(ApiResponses responses, String status, String[] text) {
        responses.addApiResponse(status, new ApiResponse().description(text[0]).content(new Content().addMediaType(
                "application/problem+json", new MediaType().schema(new Schema<>().$ref(PROBLEM)).example(text[1]))));
    }
}
