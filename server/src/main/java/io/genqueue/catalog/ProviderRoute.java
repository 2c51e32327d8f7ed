package io.genqueue.catalog;

/**
 * One provider of a model: which adapter, the model's name upstream, and how the request maps.
 *
 * @param provider the adapter's name ({@code gemini}, {@code openrouter}, {@code fal}); the preview
 *     renderer serves every model and is never listed
 * @param upstreamModel the model id the provider knows it by
 * @param sendsImageSize whether the size tier is passed upstream (Gemini's
 *     {@code generationConfig.imageConfig.imageSize}, OpenRouter's {@code image_config.image_size},
 *     fal's {@code resolution}); a model with one fixed tier sends none, as older models refuse it
 */
public record ProviderRoute(String provider, String upstreamModel, boolean sendsImageSize) {

    /** The adapters a catalog may name. */
    public static final java.util.List<String> PROVIDERS = java.util.List.of("gemini", "openrouter", "fal");
}
