package io.genqueue.http;

import io.genqueue.catalog.Model;
import io.genqueue.catalog.OutputSize;
import io.genqueue.catalog.ProviderRoute;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.ProviderHealth;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/models} and {@code GET /v1/models/{model}}: each served model as its catalog record
 * says (description, the submit body it takes as a JSON Schema, its aspect ratios, size tiers and
 * the output size of each, formats, limits, slot share and price) with its providers in order of
 * preference, each with its upstream model and whether it is healthy now (its circuit is not open).
 * Like {@code /readyz} they need no key: they say nothing about anyone's requests.
 *
 * <p>{@code aspect_ratios} pairs each ratio with its size at the default tier: what a client such as
 * the playground offers, and the pairs a submit with both {@code aspect_ratio} and {@code resolution}
 * (and no {@code image_size}) must keep to.
 */
record ModelsRoute(List<ServedModel> models) {

    ModelsRoute {
        models = models.stream().sorted(java.util.Comparator.comparing(ServedModel::id)).toList();
    }

    void list(ServerRequest req, ServerResponse res) {
        Responses.json(res, 200, Map.of("models", models.stream().map(ModelsRoute::describe).toList()));
    }

    void one(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("model");
        ServedModel served = models.stream().filter(m -> m.id().equals(id)).findFirst()
                .orElseThrow(() -> ApiError.detail(404, "Unknown model: " + id));
        Responses.json(res, 200, describe(served));
    }

    private static Map<String, Object> describe(ServedModel served) {
        Model m = served.model();
        List<Map<String, Object>> providers = served.providers().get().stream().map(h -> provider(m, h)).toList();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", m.id());
        out.put("description", m.description());
        out.put("healthy", providers.stream().anyMatch(p -> (Boolean) p.get("healthy")));
        out.put("providers", providers);
        out.put("aspect_ratios", m.aspectRatios().stream().map(r -> Map.of("aspect_ratio", r.wire(),
                "resolution", m.size(r, m.defaultImageSize()).map(OutputSize::resolution).orElseThrow())).toList());
        out.put("image_sizes", m.imageSizes());
        out.put("output_sizes", m.outputSizes().stream().map(s -> {
            Map<String, Object> size = new LinkedHashMap<>();
            size.put("aspect_ratio", s.aspectRatio().wire());
            size.put("image_size", s.imageSize());
            size.put("resolution", s.resolution());
            size.put("width", s.width());
            size.put("height", s.height());
            return size;
        }).toList());
        out.put("max_reference_images", m.maxReferenceImages());
        out.put("num_images", Map.of("min", m.minNumImages(), "max", m.maxNumImages()));
        out.put("output_formats", m.outputFormats().stream().filter(served.validator().outputFormats()::contains)
                .map(OutputFormat::wire).toList());
        out.put("parameters", served.validator().schema());
        out.put("slot_share", m.slotShare());
        out.put("price_per_image", m.pricePerImage());
        out.put("source", m.source());
        return out;
    }

    private static Map<String, Object> provider(Model m, ProviderHealth h) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", h.provider());
        m.route(h.provider()).map(ProviderRoute::upstreamModel).ifPresent(u -> p.put("upstream_model", u));
        p.put("healthy", h.healthy());
        p.put("circuit", h.state());
        p.put("in_flight", h.inFlight());
        p.put("concurrency", h.concurrency());
        return p;
    }
}
