package io.genqueue.provider.fal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genqueue.json.Json;
import java.net.URI;
import java.util.Optional;

/**
 * One request in fal's queue: its id and the URLs to follow for it. It is what the adapter keeps
 * with the job ({@link io.genqueue.provider.CallContext#saveUpstream}) as a small JSON object, so
 * the next attempt after a shutdown or a crash polls the same request instead of paying for another.
 */
record Ticket(String requestId, URI statusUrl, URI responseUrl, URI cancelUrl) {

    /** Marks a kept reference as ours, so a reference kept by another provider is never misread. */
    private static final String PROVIDER = "fal";

    String toJson() {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("provider", PROVIDER);
        node.put("request_id", requestId);
        node.put("status_url", statusUrl.toString());
        node.put("response_url", responseUrl.toString());
        node.put("cancel_url", cancelUrl.toString());
        return node.toString();
    }

    /** The ticket a {@link #toJson} wrote; empty for anything else (another provider's, or damaged). */
    static Optional<Ticket> fromJson(String reference) {
        try {
            JsonNode node = Json.mapper().readTree(reference);
            if (node == null || !PROVIDER.equals(node.path("provider").asText(null))) {
                return Optional.empty();
            }
            String id = node.path("request_id").asText("");
            String status = node.path("status_url").asText("");
            String response = node.path("response_url").asText("");
            String cancel = node.path("cancel_url").asText("");
            if (id.isEmpty() || status.isEmpty() || response.isEmpty() || cancel.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Ticket(id, URI.create(status), URI.create(response), URI.create(cancel)));
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
