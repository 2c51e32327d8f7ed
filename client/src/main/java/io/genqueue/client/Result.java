package io.genqueue.client;

import java.util.List;

/** A succeeded request's images and the model's text ({@code ""} when no text was asked for). */
public record Result(String requestId, List<Image> images, String description) {

    public Result {
        images = List.copyOf(images);
    }
}
