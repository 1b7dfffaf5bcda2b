package com.scratchgpt.api;

/** A /v1 request naming a model this service does not serve: 404, as OpenAI answers it. */
class ModelNotFoundException extends RuntimeException {

    ModelNotFoundException(String served) {
        super("model: not served here; this service serves `" + served + "` only (GET /v1/models)");
    }
}
