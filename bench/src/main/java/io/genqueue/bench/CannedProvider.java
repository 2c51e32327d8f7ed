package io.genqueue.bench;

import io.genqueue.image.OutputFormat;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.preview.PreviewProvider;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The preview provider's first answer, returned again for every later request: jobs that cost the
 * server only the queue's own work (claim, store the image, record the outcome), so a scenario
 * measures the queue rather than the renderer. Every request of such a scenario must ask for the
 * same size and format.
 */
final class CannedProvider implements ImageProvider {

    private final PreviewProvider preview = new PreviewProvider();
    private final AtomicReference<GenerationResult> canned = new AtomicReference<>();
    private final AtomicLong calls = new AtomicLong();

    @Override
    public String name() {
        return preview.name();
    }

    @Override
    public Set<OutputFormat> outputFormats() {
        return preview.outputFormats();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        calls.incrementAndGet();
        GenerationResult result = canned.get();
        if (result == null) {
            result = preview.generate(request);
            canned.compareAndSet(null, result);
        }
        return result;
    }

    /** How many jobs have called it. */
    long calls() {
        return calls.get();
    }
}
