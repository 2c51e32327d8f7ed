package io.genqueue.queue;

import java.util.List;

/** A succeeded job's output: its images and the model's text ({@code ""} when none). */
public record JobResult(List<StoredImage> images, String description) {

    public JobResult {
        images = List.copyOf(images);
    }
}
