package io.genqueue.provider;

import java.util.Optional;

/**
 * What a provider may do on its job's behalf during one call: leave lines in the job's log, and
 * keep an upstream reference (such as fal's request id) with the job, so that the next attempt
 * after a crash resumes that upstream request instead of paying for a new one.
 */
public interface CallContext {

    /** A context that keeps nothing, for calls outside a job (tests, the emulators' self-checks). */
    CallContext NONE = new CallContext() {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }

        @Override
        public Optional<String> upstream() {
            return Optional.empty();
        }

        @Override
        public void saveUpstream(String reference) {
        }
    };

    /** Adds an informational line to the job's log. Must not contain secrets. */
    void info(String message);

    /** Adds a warning line to the job's log (a failed attempt, a fallback). Must not contain secrets. */
    void warn(String message);

    /** The upstream reference an earlier attempt of this job saved, if any. */
    Optional<String> upstream();

    /**
     * Keeps {@code reference} with the job, durably, before the provider relies on it: a process
     * that dies after this call leaves the reference to the next attempt. {@code null} clears it.
     */
    void saveUpstream(String reference);

    /**
     * Why an interrupted call was interrupted, for a provider that keeps an upstream request: true
     * when the job was cancelled (nobody wants the result: cancel the upstream request), false when
     * the job was stopped to be resumed (a shutdown, a lost lease: leave the upstream request running
     * for the attempt that picks up the saved reference). A context that cannot tell answers true,
     * since then nothing would ever collect the upstream result.
     */
    default boolean cancelled() {
        return true;
    }
}
