package io.genqueue.provider.preview;

import io.genqueue.generation.ErrorType;
import io.genqueue.image.Encoder;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.Transcoder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The provider used when no upstream model is configured: it renders a deterministic preview
 * locally (no network, no key), at the exact requested size and format, and says plainly, in the
 * image and in its text, that it is a preview and not a model.
 *
 * <p>Same request, same bytes: the output depends on the prompt, seed, aspect ratio, format,
 * image count and reference images, never on the request id, the time, or the installed fonts.
 * Safe for concurrent use; a configurable latency simulates a model for demos and benchmarks.
 *
 * <p>Rendering is CPU work, so it runs on a small pool of platform threads (one per core), not on
 * the calling virtual thread: a virtual thread busy computing holds its carrier until it is done,
 * and a few dozen of them rendering at once would starve every HTTP request of the carriers.
 */
public final class PreviewProvider implements ImageProvider {

    /** How much of the prompt the description quotes, in code points. */
    static final int DESCRIPTION_PROMPT_LIMIT = 200;

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private static final ExecutorService RENDERERS = Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors()),
            Thread.ofPlatform().name("genqueue-preview-render-", 0).daemon().factory());

    private final Duration latency;

    /** A preview provider that answers as fast as it can render. */
    public PreviewProvider() {
        this(Duration.ZERO);
    }

    /** @param latency how long each {@link #generate} call waits before rendering, to simulate a model */
    public PreviewProvider(Duration latency) {
        Objects.requireNonNull(latency, "latency");
        if (latency.isNegative()) {
            throw new IllegalArgumentException("latency must not be negative: " + latency);
        }
        this.latency = latency;
    }

    @Override
    public String name() {
        return "preview";
    }

    @Override
    public Set<OutputFormat> outputFormats() {
        return Transcoder.outputFormats(); // what its encoder can write here
    }

    /**
     * @throws IllegalArgumentException when the format is not one of {@link #outputFormats()}
     *     (refused at submit, so this means a caller skipped that check)
     */
    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        Objects.requireNonNull(request, "request");
        OutputFormat format = request.format();
        if (format == null || !outputFormats().contains(format)) {
            throw new IllegalArgumentException("the preview provider cannot write " + format + " here");
        }
        if (latency.isPositive()) {
            Thread.sleep(latency);
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Future<List<ImageData>> rendering = RENDERERS.submit(() -> render(request));
        List<ImageData> images;
        try {
            images = rendering.get();
        } catch (InterruptedException e) {
            rendering.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new InterruptedException("rendering was interrupted");
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        String description = request.includeText() ? description(request.prompt(), request.numImages()) : "";
        return new GenerationResult(images, description);
    }

    /** Renders and encodes every image; runs on a renderer thread, stops early when interrupted. */
    private static List<ImageData> render(GenerationRequest request) throws InterruptedException {
        OutputFormat format = request.format();
        PreviewRenderer.Scene scene = PreviewRenderer.scene(request.width(), request.height(),
                request.prompt(), request.seed(), request.numImages(), request.references());
        ImageFormat imageFormat = ImageFormat.valueOf(format.name());
        List<ImageData> images = new ArrayList<>(request.numImages());
        for (int i = 0; i < request.numImages(); i++) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            Canvas canvas = PreviewRenderer.render(scene, i);
            byte[] bytes;
            try {
                bytes = Encoder.encode(canvas.image, format);
            } catch (IOException e) {
                throw ProviderException.fatal(ErrorType.INTERNAL_ERROR,
                        "the preview renderer could not encode a " + format.wire() + " image");
            }
            images.add(new ImageData(bytes, new ImageInfo(imageFormat, canvas.width, canvas.height, bytes.length)));
        }
        return images;
    }

    /** A plain sentence saying what this is, quoting the prompt (collapsed and shortened). */
    static String description(String prompt, int count) {
        String collapsed = prompt == null ? "" : prompt.codePoints()
                .map(cp -> Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp) ? ' ' : cp)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString().replaceAll(" {2,}", " ").strip();
        String what = count == 1
                ? "Preview image rendered locally by genqueue's preview provider (not a generative model)"
                : count + " preview images rendered locally by genqueue's preview provider (not a generative model)";
        if (collapsed.isEmpty()) {
            return what + " for an empty prompt.";
        }
        if (collapsed.codePointCount(0, collapsed.length()) > DESCRIPTION_PROMPT_LIMIT) {
            int end = collapsed.offsetByCodePoints(0, DESCRIPTION_PROMPT_LIMIT);
            collapsed = collapsed.substring(0, end).stripTrailing() + "...";
        }
        return what + " for the prompt: \"" + collapsed + "\".";
    }
}
