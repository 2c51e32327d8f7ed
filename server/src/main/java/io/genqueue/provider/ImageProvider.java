package io.genqueue.provider;

import io.genqueue.image.OutputFormat;
import java.util.Set;

/**
 * One way of turning a prompt (and reference images) into images: an upstream model API, or the
 * local preview renderer.
 *
 * <p>Threading: {@link #generate} is called from many worker threads at once and must be safe for
 * that. It blocks until it has a result; cancelling a job interrupts the calling thread, and an
 * implementation must then give up promptly (abort its upstream call) and throw
 * {@link InterruptedException}.
 */
public interface ImageProvider {

    /** Short stable name used in settings and logs, e.g. {@code "gemini"} or {@code "preview"}. */
    String name();

    /** The output formats this provider can deliver; a request for another is refused at submit. */
    Set<OutputFormat> outputFormats();

    /**
     * Generates {@code request.numImages()} images.
     *
     * @throws ProviderException for every failure the provider can name (policy blocks, upstream
     *     errors, overload), classified as retryable or final
     * @throws InterruptedException when the calling thread is interrupted (the job was cancelled)
     */
    GenerationResult generate(GenerationRequest request) throws InterruptedException;
}
