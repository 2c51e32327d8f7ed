package io.genqueue.generation;

import io.genqueue.image.AspectRatio;
import io.genqueue.image.OutputFormat;
import java.util.List;

/**
 * A submitted request after validation and normalisation: the fields of the contract's submit body
 * that a worker needs. It is stored with the job (as JSON) and is immutable.
 *
 * @param imageUrls reference images as the client gave them: http(s) URLs or data URIs
 * @param aspectRatio the requested ratio, or null when the client gave neither
 *     {@code aspect_ratio} nor {@code resolution} (the first reference image then decides, else 1:1)
 * @param includeText whether {@code response_modalities} contains {@code Text}
 * @param seed the client's seed, or null
 * @param syncMode whether the response carries the images inline as data URIs
 */
public record GenerationInput(
        String prompt,
        List<String> imageUrls,
        AspectRatio aspectRatio,
        boolean includeText,
        int numImages,
        OutputFormat outputFormat,
        Long seed,
        boolean syncMode) {

    public GenerationInput {
        imageUrls = List.copyOf(imageUrls);
    }
}
