package com.scratchgpt.api;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Body of GET /v1/models, as OpenAI lists models. */
record ModelList(String object, List<ModelCard> data) {

    record ModelCard(String id, String object, long created, @JsonProperty("owned_by") String ownedBy) {
    }

    /** The list of the one served model. */
    static ModelList of(String id, long created) {
        return new ModelList("list", List.of(new ModelCard(id, "model", created, "scratchgpt")));
    }
}
