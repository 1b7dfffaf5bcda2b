package com.scratchgpt.api;

import java.util.Map;

import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;

/** The API's title, and the RFC 9457 errors every POST operation can answer, with examples. */
@Configuration(proxyBeanMethods = false)
class OpenApiDocs {

    private static final Map<String, String[]> ERRORS = Map.of(
            "400", new String[] {"Invalid request: the detail names the field",
                    "{\"type\":\"about:blank\",\"title\":\"Invalid request\",\"status\":400,\"detail\":\"maxNewTokens: must be between 0 and 1024, got 5000\",\"instance\":\"/generate\",\"field\":\"maxNewTokens\"}"},
            "413", new String[] {"Request body over 1 MiB",
                    "{\"type\":\"about:blank\",\"title\":\"Payload Too Large\",\"status\":413,\"detail\":\"request body: 2097152 bytes exceed the limit of 1048576 bytes\",\"instance\":\"/generate\"}"},
            "415", new String[] {"Not application/json",
                    "{\"type\":\"about:blank\",\"title\":\"Unsupported Media Type\",\"status\":415,\"detail\":\"Content-Type 'text/plain' is not supported.\",\"instance\":\"/generate\"}"},
            "429", new String[] {"Every generation slot and queue place is taken (Retry-After header)",
                    "{\"type\":\"about:blank\",\"title\":\"Too many requests\",\"status\":429,\"detail\":\"all 16 generation slots and 64 queue places are taken\",\"instance\":\"/generate\"}"},
            "503", new String[] {"The request passed gpt.generation.timeout, or the service is shutting down (Retry-After "
                    + "header); a stream already begun ends instead with an `error` event carrying this problem",
                    "{\"type\":\"about:blank\",\"title\":\"Deadline exceeded\",\"status\":503,\"detail\":\"generation passed its deadline after 812 tokens\",\"instance\":\"/generate\"}"});

    @Bean
    OpenApiCustomizer problemResponses() {
        return api -> {
            api.info(new Info().title("ScratchGPT").version("0.1.0")
                    .description("GPT-2 (the seeds' model from Build a Large Language Model (From Scratch)) on ND4J"));
            Schema<?> problem = new ObjectSchema().description("RFC 9457 problem details")
                    .addProperty("type", new Schema<String>().type("string"))
                    .addProperty("title", new Schema<String>().type("string"))
                    .addProperty("status", new Schema<Integer>().type("integer"))
                    .addProperty("detail", new Schema<String>().type("string"))
                    .addProperty("instance", new Schema<String>().type("string"))
                    .addProperty("field", new Schema<String>().type("string").description("the request field at fault"));
            api.getPaths().values().stream().filter(path -> path.getPost() != null).forEach(path ->
                    ERRORS.forEach((status, text) -> path.getPost().getResponses().addApiResponse(status,
                            new ApiResponse().description(text[0]).content(new Content().addMediaType(
                                    "application/problem+json", new MediaType().schema(problem).example(text[1]))))));
        };
    }
}
