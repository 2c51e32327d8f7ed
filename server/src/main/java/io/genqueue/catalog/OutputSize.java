package io.genqueue.catalog;

import io.genqueue.image.AspectRatio;

/**
 * One entry of a model's size table: the image a request with this aspect ratio and size tier gets.
 *
 * @param imageSize the tier as the API spells it ({@code image_size}, e.g. {@code "2K"})
 */
public record OutputSize(AspectRatio aspectRatio, String imageSize, int width, int height) {

    /** The size as the API spells it ({@code resolution}), e.g. {@code "1344x768"}. */
    public String resolution() {
        return width + "x" + height;
    }
}
