package io.genqueue.provider;

import io.genqueue.media.ImageData;
import java.util.List;

/**
 * What a provider made: the encoded images, in the requested format, and the model's text
 * ({@code ""} when there is none or none was asked for).
 */
public record GenerationResult(List<ImageData> images, String description) {

    public GenerationResult {
        images = List.copyOf(images);
        if (description == null) {
            description = "";
        }
    }
}
