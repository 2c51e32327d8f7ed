package io.genqueue.provider;

import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageData;
import io.genqueue.image.OutputFormat;
import java.util.List;

/**
 * What a provider is asked to make. Everything is resolved: the aspect ratio is decided (from the
 * request, or from the first reference image), and the reference images are fetched and decoded.
 *
 * @param requestId the job's id, for logs and upstream correlation
 * @param references the reference images, in the order the client gave them
 * @param imageSize the size tier to pass upstream (Gemini's {@code imageConfig.imageSize}), or null to
 *     send none: a provider sends it only where the model's catalog route says so
 * @param width the output width the model's size table gives for this aspect ratio and tier
 * @param height the output height, likewise
 * @param includeText whether the client asked for the model's text ({@code response_modalities}
 *     contains {@code Text})
 * @param seed the client's seed, or null
 * @param context the job's log and upstream reference, for this call
 */
public record GenerationRequest(
        String requestId,
        String prompt,
        List<ImageData> references,
        AspectRatio aspectRatio,
        String imageSize,
        int width,
        int height,
        OutputFormat format,
        int numImages,
        boolean includeText,
        Long seed,
        CallContext context) {

    public GenerationRequest {
        references = List.copyOf(references);
        if (context == null) {
            context = CallContext.NONE;
        }
        if (numImages < 1) {
            throw new IllegalArgumentException("numImages < 1: " + numImages);
        }
    }

    /** A request of nano_banana's table (the ratio's own size; 0 x 0 without a ratio), no tier sent. */
    public GenerationRequest(String requestId, String prompt, List<ImageData> references, AspectRatio aspectRatio,
            OutputFormat format, int numImages, boolean includeText, Long seed, CallContext context) {
        this(requestId, prompt, references, aspectRatio, null, aspectRatio == null ? 0 : aspectRatio.width(),
                aspectRatio == null ? 0 : aspectRatio.height(), format, numImages, includeText, seed, context);
    }

    /** A request outside any job: nothing is logged or kept. */
    public GenerationRequest(String requestId, String prompt, List<ImageData> references, AspectRatio aspectRatio,
            OutputFormat format, int numImages, boolean includeText, Long seed) {
        this(requestId, prompt, references, aspectRatio, format, numImages, includeText, seed, CallContext.NONE);
    }
}
