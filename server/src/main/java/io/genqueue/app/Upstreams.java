package io.genqueue.app;

import io.genqueue.catalog.Catalog;
import io.genqueue.catalog.Model;
import io.genqueue.catalog.ProviderRoute;
import io.genqueue.metrics.ProviderMeters;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.fal.FalProvider;
import io.genqueue.provider.gemini.GeminiProvider;
import io.genqueue.provider.openrouter.OpenRouterProvider;
import io.genqueue.provider.preview.PreviewProvider;
import io.genqueue.provider.router.ProviderRouter;
import io.genqueue.worker.ModelWork;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which providers serve the models, in order, and how each is reached and used; which of them serves
 * a given model, and by what upstream name, is the model's catalog entry.
 *
 * @param order the providers named by {@code GENQUEUE_PROVIDERS}, or empty for the default
 * @param keys each upstream provider's key by name (empty when not set)
 */
record Upstreams(List<String> order, Map<String, String> keys, Map<String, URI> baseUrls,
        Duration connectTimeout, Duration callTimeout, ProviderRouter.Limits limits) {

    /** Failure rate that opens a circuit, over how many calls, after at least how many. */
    static final double BREAKER_FAILURE_RATE = 0.5;
    static final int BREAKER_WINDOW = 20;
    static final int BREAKER_MIN_CALLS = 5;

    static final List<String> UPSTREAM = List.of("gemini", "openrouter", "fal");

    /** The providers to use, in order: as configured, else those with a key, else the preview. */
    List<String> effectiveOrder() {
        if (!order.isEmpty()) {
            return order;
        }
        List<String> withKey = UPSTREAM.stream().filter(p -> !keys.getOrDefault(p, "").isEmpty()).toList();
        return withKey.isEmpty() ? List.of("preview") : withKey;
    }

    /** Problems with the configuration, each naming its setting. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        for (String p : order) {
            if (!p.equals("preview") && keys.getOrDefault(p, "").isEmpty()) {
                problems.add("GENQUEUE_PROVIDERS: lists " + p + " but " + keyName(p) + " is not set");
            }
        }
        return problems;
    }

    static String keyName(String provider) {
        return switch (provider) {
            case "gemini" -> "GEMINI_API_KEY";
            case "openrouter" -> "OPENROUTER_API_KEY";
            default -> "FAL_KEY";
        };
    }

    /**
     * Each model's router: the configured providers, in the configured order, that the model's catalog
     * entry lists, each asking for the model by its upstream name (the preview renderer serves every model).
     *
     * @throws IllegalArgumentException naming a model that none of the configured providers serves
     */
    List<ModelWork> routers(Catalog catalog, Duration previewDelay, Clock clock, ProviderMeters meters) {
        List<ModelWork> out = new ArrayList<>();
        for (Model model : catalog.models()) {
            List<ImageProvider> providers = new ArrayList<>();
            for (String name : effectiveOrder()) {
                if (name.equals("preview")) {
                    providers.add(new PreviewProvider(previewDelay));
                } else {
                    model.route(name).ifPresent(route -> providers.add(create(name, route)));
                }
            }
            if (providers.isEmpty()) {
                throw new IllegalArgumentException("model " + model.id() + ": none of its providers ("
                        + String.join(", ", model.providers().stream().map(ProviderRoute::provider).toList())
                        + ") is configured (providers in use: " + String.join(", ", effectiveOrder())
                        + "); set its provider's key, or leave the model out of GENQUEUE_MODELS");
            }
            out.add(new ModelWork(model, new ProviderRouter(providers, limits, clock, meters)));
        }
        return out;
    }

    /** Every model on one given provider (tests, embedding), each behind its own router with the configured limits. */
    List<ModelWork> routers(Catalog catalog, ImageProvider provider, Clock clock, ProviderMeters meters) {
        return catalog.models().stream().map(m -> new ModelWork(m, new ProviderRouter(List.of(provider), limits, clock, meters)))
                .toList();
    }

    private ImageProvider create(String name, ProviderRoute route) {
        ProviderSettings s = new ProviderSettings(baseUrls.get(name), keys.get(name), route.upstreamModel(), connectTimeout,
                callTimeout, route.sendsImageSize());
        return switch (name) {
            case "gemini" -> new GeminiProvider(s);
            case "openrouter" -> new OpenRouterProvider(s);
            case "fal" -> new FalProvider(s);
            default -> throw new IllegalArgumentException("unknown provider " + name + " (" + s + ")");
        };
    }

    @Override
    public String toString() {
        return "Upstreams[order=" + effectiveOrder() + ", baseUrls=" + baseUrls + "]"; // never the keys
    }
}
