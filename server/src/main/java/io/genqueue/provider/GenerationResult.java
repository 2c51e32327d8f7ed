package io.genqueue.provider;

import io.genqueue.image.ImageData;
import java.util.List;

/**
 * What a provider made: the encoded images, in the requested format, and the model's text
 * ({@code ""} when there is none or none was asked for).
 *
 * @param provider the name of the provider that made them, when a router chose among several; else null
 */
public record GenerationResult(List<ImageData> images, String description, String provider) {

    public GenerationResult {
        images = List.copyOf(images);
        if (description == null) {
            description = "";
        }
    }

    public GenerationResult(List<ImageData> images, String description) {
        this(images, description, null);
    }
}
