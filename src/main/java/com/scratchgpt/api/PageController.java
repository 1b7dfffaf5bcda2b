package com.scratchgpt.api;

import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

/** GET /: the inspector page (static/index.html and its modules under static/inspector/). */
@RestController
@Tag(name = "Inspection")
class PageController {

    /** Everything the page loads comes from this server: its own scripts, styles and API, nothing else. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";

    private final Resource page = new ClassPathResource("static/index.html");

    @Operation(summary = "The inspector page", description = "Tokens, attention, logit lens, next-token probabilities, "
            + "loss, streamed generation and the parameter breakdown of the served model, from POST /inspect and the "
            + "other endpoints. Plain HTML and JavaScript modules; nothing is fetched from elsewhere.")
    @ApiResponse(responseCode = "200", description = "The page", content = @Content(mediaType = MediaType.TEXT_HTML_VALUE))
    @GetMapping(path = "/", produces = MediaType.TEXT_HTML_VALUE)
    ResponseEntity<Resource> page(@Parameter(description = "A prompt the page inspects as soon as it opens (a link to "
            + "share); read by the page's script", example = "Hello, I am")
                                  @RequestParam(name = "prompt", required = false) String prompt) {
        return ResponseEntity.ok().header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .header(HttpHeaders.CACHE_CONTROL, "no-cache").contentType(MediaType.TEXT_HTML).body(page);
    }
}
