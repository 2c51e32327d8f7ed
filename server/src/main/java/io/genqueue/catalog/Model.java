package io.genqueue.catalog;

import io.genqueue.image.AspectRatio;
import io.genqueue.image.OutputFormat;
import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One model the service serves under {@code /v1/queue/{id}}: its rules, its providers and its share
 * of the workers. Everything that differs between models is here, so validation, {@code /v1/models},
 * the size a provider is asked for, the worker's caps and the usage figures read the record and never
 * test a model's name. Made by {@link Catalog} from the catalog files, which check every rule below.
 *
 * @param fields the submit fields the model takes (a subset of {@link #FIELDS}; {@code prompt} always):
 *     any other is ignored, as the contract ignores unknown fields
 * @param aspectRatios the ratios a client may ask for, in the order they are listed
 * @param imageSizes the size tiers ({@code image_size}), the default first
 * @param sizes the output size of every aspect ratio in every tier
 * @param maxReferenceImages the most {@code image_urls}
 * @param outputFormats the formats the model's providers can deliver, in the order listed
 * @param providers in order of preference; those configured serve it, else the preview renderer
 * @param slotShare the most of a process's worker slots its jobs may hold at once, as a fraction (0, 1]
 * @param pricePerImage what one image costs, in US dollars, for the usage figures
 * @param source where the rules were read (pages of the upstream providers)
 */
public record Model(
        String id,
        String description,
        Set<String> fields,
        List<AspectRatio> aspectRatios,
        List<String> imageSizes,
        List<OutputSize> sizes,
        int maxReferenceImages,
        int minNumImages,
        int maxNumImages,
        List<OutputFormat> outputFormats,
        List<ProviderRoute> providers,
        double slotShare,
        BigDecimal pricePerImage,
        List<String> source) {

    /** Every submit field a model may take, in the contract's order. */
    public static final List<String> FIELDS = List.of("prompt", "image_urls", "aspect_ratio", "image_size", "resolution",
            "response_modalities", "num_images", "output_format", "seed", "sync_mode");

    public Model {
        fields = Set.copyOf(fields);
        aspectRatios = List.copyOf(aspectRatios);
        imageSizes = List.copyOf(imageSizes);
        sizes = List.copyOf(sizes);
        outputFormats = List.copyOf(outputFormats);
        providers = List.copyOf(providers);
        source = List.copyOf(source);
    }

    /** Whether the model takes this submit field at all. */
    public boolean takes(String field) {
        return fields.contains(field);
    }

    /** The tier used when a request names none. */
    public String defaultImageSize() {
        return imageSizes.get(0);
    }

    /**
     * The model's output sizes, width x height, each with its aspect ratio and tier, tier by tier in
     * the listed order: what a client may ask for by {@code aspect_ratio} and {@code image_size},
     * by {@code resolution}, or (the OpenAI door) by {@code size}.
     */
    public List<OutputSize> outputSizes() {
        return sizes;
    }

    /** The output size of this ratio in this tier. */
    public Optional<OutputSize> size(AspectRatio ratio, String imageSize) {
        return sizes.stream().filter(s -> s.aspectRatio() == ratio && s.imageSize().equals(imageSize)).findFirst();
    }

    /** The entry whose {@code resolution} is this, e.g. {@code "1376x768"}. */
    public Optional<OutputSize> sizeOf(String resolution) {
        return sizes.stream().filter(s -> s.resolution().equals(resolution)).findFirst();
    }

    /** The provider route of this adapter, if the model lists it. */
    public Optional<ProviderRoute> route(String provider) {
        return providers.stream().filter(r -> r.provider().equals(provider)).findFirst();
    }

    /** The most of {@code slots} worker slots this model's jobs hold at once: at least one. */
    public int slotCap(int slots) {
        return Math.max(1, Math.min(slots, (int) Math.floor(slots * slotShare + 1e-9)));
    }

    /** The price of {@code images} images, in US dollars. */
    public BigDecimal cost(long images) {
        return pricePerImage.multiply(BigDecimal.valueOf(images));
    }
}
