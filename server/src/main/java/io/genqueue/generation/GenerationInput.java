package io.genqueue.generation;

import com.fasterxml.jackson.annotation.JsonInclude;
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
 * @param imageSize the size tier ({@code image_size}) when the client asked for one other than the
 *     model's default; null for the default (so jobs stored before tiers existed read the same)
 */
public record GenerationInput(
        String prompt,
        List<String> imageUrls,
        AspectRatio aspectRatio,
        boolean includeText,
        int numImages,
        OutputFormat outputFormat,
        Long seed,
        boolean syncMode,
        @JsonInclude(JsonInclude.Include.NON_NULL) String imageSize) {

    public GenerationInput {
        imageUrls = List.copyOf(imageUrls);
    }

    /**
     * A request for {@code prompt} with the contract's defaults, each changed by name: no reference
     * images, no aspect ratio (the first reference image decides, else 1:1), text included, one PNG,
     * no seed, images by link rather than inline.
     */
    public static Builder builder(String prompt) {
        return new Builder(prompt);
    }

    /** Builds a {@link GenerationInput}; every field starts at the contract's default. */
    public static final class Builder {
        private final String prompt;
        private List<String> imageUrls = List.of();
        private AspectRatio aspectRatio;
        private boolean includeText = true;
        private int numImages = 1;
        private OutputFormat outputFormat = OutputFormat.PNG;
        private Long seed;
        private boolean syncMode;
        private String imageSize;

        private Builder(String prompt) {
            this.prompt = prompt;
        }

        public Builder imageUrls(List<String> imageUrls) {
            this.imageUrls = imageUrls;
            return this;
        }

        /** The requested ratio; null leaves it to the first reference image (else 1:1). */
        public Builder aspectRatio(AspectRatio aspectRatio) {
            this.aspectRatio = aspectRatio;
            return this;
        }

        public Builder includeText(boolean includeText) {
            this.includeText = includeText;
            return this;
        }

        public Builder numImages(int numImages) {
            this.numImages = numImages;
            return this;
        }

        public Builder outputFormat(OutputFormat outputFormat) {
            this.outputFormat = outputFormat;
            return this;
        }

        /** The client's seed; null for none. */
        public Builder seed(Long seed) {
            this.seed = seed;
            return this;
        }

        public Builder syncMode(boolean syncMode) {
            this.syncMode = syncMode;
            return this;
        }

        /** The size tier; null for the model's default. */
        public Builder imageSize(String imageSize) {
            this.imageSize = imageSize;
            return this;
        }

        public GenerationInput build() {
            return new GenerationInput(prompt, imageUrls, aspectRatio, includeText, numImages, outputFormat, seed, syncMode, imageSize);
        }
    }
}
