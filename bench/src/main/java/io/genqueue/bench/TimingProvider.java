package io.genqueue.bench;

import io.genqueue.image.OutputFormat;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A provider wrapped with a stopwatch: for each request, when the provider was called and when it
 * returned ({@link System#nanoTime}). With the server in the harness's JVM, these instants share a
 * clock with the client's, so pickup and overhead are measured to the microsecond.
 */
final class TimingProvider implements ImageProvider {

    /** One call: start and end in nanoseconds. */
    record Call(long start, long end) {
        long nanos() {
            return end - start;
        }
    }

    private final ImageProvider delegate;
    private final Map<String, CompletableFuture<Call>> calls = new ConcurrentHashMap<>();

    TimingProvider(ImageProvider delegate) {
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Set<OutputFormat> outputFormats() {
        return delegate.outputFormats();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) throws InterruptedException {
        long start = System.nanoTime();
        CompletableFuture<Call> call = call(request.requestId());
        try {
            return delegate.generate(request);
        } finally {
            call.complete(new Call(start, System.nanoTime()));
        }
    }

    /** The call for a request, completed once the provider returned. */
    CompletableFuture<Call> call(String requestId) {
        return calls.computeIfAbsent(requestId, id -> new CompletableFuture<>());
    }

    boolean returned(String requestId) {
        CompletableFuture<Call> f = calls.get(requestId);
        return f != null && f.isDone();
    }

    Map<String, CompletableFuture<Call>> calls() {
        return calls;
    }
}
