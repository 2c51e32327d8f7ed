package io.genqueue.app;

import io.genqueue.metrics.ProviderMeters;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.fal.FalProvider;
import io.genqueue.provider.gemini.GeminiProvider;
import io.genqueue.provider.openrouter.OpenRouterProvider;
import io.genqueue.provider.preview.PreviewProvider;
import io.genqueue.provider.router.ProviderRouter;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which providers serve the model, in order, and how each is reached and used.
 *
 * @param order the providers named by {@code GENQUEUE_PROVIDERS}, or empty for the default
 * @param keys each upstream provider's key by name (empty when not set)
 */
record Upstreams(List<String> order, Map<String, String> keys, Map<String, URI> baseUrls, Map<String, String> models,
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

    /** Builds the configured providers behind one router. */
    ProviderRouter router(Duration previewDelay, Clock clock, ProviderMeters meters) {
        List<ImageProvider> providers = new ArrayList<>();
        for (String name : effectiveOrder()) {
            providers.add(create(name, previewDelay));
        }
        return new ProviderRouter(providers, limits, clock, meters);
    }

    private ImageProvider create(String name, Duration previewDelay) {
        if (name.equals("preview")) {
            return new PreviewProvider(previewDelay);
        }
        ProviderSettings s = new ProviderSettings(baseUrls.get(name), keys.get(name), models.get(name), connectTimeout, callTimeout);
        return switch (name) {
            case "gemini" -> new GeminiProvider(s);
            case "openrouter" -> new OpenRouterProvider(s);
            case "fal" -> new FalProvider(s);
            default -> throw new IllegalArgumentException("unknown provider " + name + " (" + s + ")");
        };
    }

    @Override
    public String toString() {
        return "Upstreams[order=" + effectiveOrder() + ", baseUrls=" + baseUrls + ", models=" + models + "]"; // never the keys
    }
}
