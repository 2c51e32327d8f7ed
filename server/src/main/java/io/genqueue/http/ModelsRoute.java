package io.genqueue.http;

import io.genqueue.image.AspectRatio;
import io.genqueue.provider.ProviderHealth;
import java.util.Arrays;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code GET /v1/models}: each served model with its providers in order of preference, and whether
 * each is healthy now (its circuit is not open). Like {@code /readyz} it needs no key: it says
 * nothing about anyone's requests.
 *
 * <p>Each model also lists its aspect ratios with the one resolution each has (the model's fixed
 * table, {@link AspectRatio}): what a client such as the playground offers, and the pairs a submit
 * with both {@code aspect_ratio} and {@code resolution} must keep to.
 */
record ModelsRoute(Set<String> models, Supplier<List<ProviderHealth>> providers) {

    void handle(ServerRequest req, ServerResponse res) {
        List<Map<String, Object>> providerList = providers.get().stream().map(h -> {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", h.provider());
            p.put("healthy", h.healthy());
            p.put("circuit", h.state());
            p.put("in_flight", h.inFlight());
            p.put("concurrency", h.concurrency());
            return p;
        }).toList();
        List<Map<String, String>> ratios = Arrays.stream(AspectRatio.values())
                .map(r -> Map.of("aspect_ratio", r.wire(), "resolution", r.resolution())).toList();
        List<Map<String, Object>> list = models.stream().sorted().map(m -> {
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("id", m);
            model.put("healthy", providerList.stream().anyMatch(p -> (Boolean) p.get("healthy")));
            model.put("providers", providerList);
            model.put("aspect_ratios", ratios);
            return model;
        }).toList();
        Responses.json(res, 200, Map.of("models", list));
    }
}
