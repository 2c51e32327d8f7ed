package io.genqueue.app;

import io.genqueue.generation.ErrorType;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.preview.PreviewProvider;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for an upstream model, driven by tokens in the prompt, so end-to-end tests can make
 * the real server meet each way a provider fails: {@code [content]} a policy block, {@code [error]}
 * a final upstream error, {@code [overloaded]} a retryable one (always), {@code [flaky]} retryable
 * on the first attempt only, {@code [hang]} a call that blocks until cancelled, {@code [bug]} an
 * unexpected exception, {@code [slow]} half a second of latency, {@code [fast]} a tiny image without
 * rendering (for tests that run thousands of jobs). Anything else renders a preview. It counts calls
 * per request.
 */
final class ScriptedProvider implements ImageProvider {

    final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private static final io.genqueue.image.ImageData TINY_PNG = tinyPng();
    final CountDownLatch hanging = new CountDownLatch(1);
    /** Requests whose {@code [hang]} call was interrupted (the job was cancelled or stopped). */
    final Set<String> interrupted = ConcurrentHashMap.newKeySet();
    private final PreviewProvider preview = new PreviewProvider(Duration.ZERO);

    @Override
    public String name() {
        return "scripted";
    }

    @Override
    public Set<OutputFormat> outputFormats() {
        return preview.outputFormats();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        int call = calls.computeIfAbsent(request.requestId(), id -> new AtomicInteger()).incrementAndGet();
        String prompt = request.prompt();
        if (prompt.contains("[content]")) {
            throw ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION, "the prompt was blocked (SAFETY)");
        }
        if (prompt.contains("[error]")) {
            throw ProviderException.fatal(ErrorType.PROVIDER_ERROR, "upstream answered 400 INVALID_ARGUMENT");
        }
        if (prompt.contains("[overloaded]") || (prompt.contains("[flaky]") && call == 1)) {
            throw ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, "503 UNAVAILABLE: the model is overloaded",
                    null, null);
        }
        if (prompt.contains("[hang]")) {
            hanging.countDown();
            try {
                new CountDownLatch(1).await(); // until interrupted
            } catch (InterruptedException e) {
                interrupted.add(request.requestId());
                throw e;
            }
        }
        if (prompt.contains("[slow]")) {
            Thread.sleep(500);
        }
        if (prompt.contains("[fast]")) {
            return new GenerationResult(java.util.Collections.nCopies(request.numImages(), TINY_PNG), "fast");
        }
        if (prompt.contains("[bug]")) {
            throw new IllegalStateException("a bug with a secret in its message: sk-do-not-leak");
        }
        return preview.generate(request);
    }

    private static io.genqueue.image.ImageData tinyPng() {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", out);
            byte[] bytes = out.toByteArray();
            return new io.genqueue.image.ImageData(bytes,
                    new io.genqueue.image.ImageInfo(io.genqueue.image.ImageFormat.PNG, 8, 8, bytes.length));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    int callsFor(String requestId) {
        AtomicInteger n = calls.get(requestId);
        return n == null ? 0 : n.get();
    }
}
