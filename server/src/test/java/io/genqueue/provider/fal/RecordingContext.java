package io.genqueue.provider.fal;

import io.genqueue.provider.CallContext;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;

/**
 * A job's context for adapter tests: keeps the upstream reference in memory (as the store keeps it
 * with the job), records the log lines, says whether the interrupt was a cancel, and notes how many
 * status polls the upstream had seen when the reference was saved.
 */
final class RecordingContext implements CallContext {

    final List<String> lines = new CopyOnWriteArrayList<>();
    private final boolean cancelled;
    private final IntSupplier pollsSoFar;
    private volatile String upstream;
    volatile int pollsWhenSaved = -1;
    volatile int saves;

    /**
     * @param cancelled what {@link #cancelled} answers: true for a client's cancel, false for a shutdown
     * @param pollsSoFar the upstream's status poll count, read when the reference is saved
     */
    RecordingContext(String upstream, boolean cancelled, IntSupplier pollsSoFar) {
        this.upstream = upstream;
        this.cancelled = cancelled;
        this.pollsSoFar = pollsSoFar;
    }

    @Override
    public void info(String message) {
        lines.add("INFO " + message);
    }

    @Override
    public void warn(String message) {
        lines.add("WARN " + message);
    }

    @Override
    public Optional<String> upstream() {
        return Optional.ofNullable(upstream);
    }

    @Override
    public void saveUpstream(String reference) {
        pollsWhenSaved = pollsSoFar.getAsInt();
        saves++;
        upstream = reference;
    }

    @Override
    public boolean cancelled() {
        return cancelled;
    }
}
