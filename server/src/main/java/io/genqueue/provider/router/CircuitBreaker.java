package io.genqueue.provider.router;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * One provider's health: CLOSED lets every call through; when the failure rate over the last
 * {@code window} calls reaches the threshold (after at least {@code minCalls}), it OPENs and lets
 * nothing through for {@code openFor}; then it is HALF_OPEN and lets one probe through at a time.
 * A probe's success closes it (with a fresh window); its failure opens it again.
 *
 * <p>An {@code openFor} of zero turns the breaker off: it stays CLOSED.
 *
 * <p>Thread-safe: every method holds this object's monitor, briefly.
 */
final class CircuitBreaker {

    enum State { CLOSED, OPEN, HALF_OPEN }

    private final ProviderRouter.Breaker settings;
    private final Clock clock;
    private final boolean[] failures; // ring of the last calls' outcomes
    private int recorded;
    private int next;
    private int failed;
    private State state = State.CLOSED;
    private Instant openUntil = Instant.MIN;
    private boolean probing;

    CircuitBreaker(ProviderRouter.Breaker settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.failures = new boolean[settings.window()];
    }

    /**
     * Whether a call may start now. In HALF_OPEN this admits one probe and returns false to the
     * others until the probe reports; the caller that got true must report by {@link #succeeded}
     * or {@link #failed}, or {@link #abandoned} when its call ended without a verdict.
     */
    synchronized boolean tryAcquire() {
        switch (state()) {
            case CLOSED:
                return true;
            case HALF_OPEN:
                if (probing) {
                    return false;
                }
                probing = true;
                return true;
            default:
                return false;
        }
    }

    /** The state now (OPEN becomes HALF_OPEN once its time is up). */
    synchronized State state() {
        if (state == State.OPEN && !clock.instant().isBefore(openUntil)) {
            state = State.HALF_OPEN;
            probing = false;
        }
        return state;
    }

    /** How long until an OPEN breaker lets a probe through; zero when it would now. */
    synchronized Duration untilProbe() {
        return state() == State.OPEN ? Duration.between(clock.instant(), openUntil) : Duration.ZERO;
    }

    synchronized void succeeded() {
        if (state == State.HALF_OPEN) {
            state = State.CLOSED;
            probing = false;
            reset();
            return;
        }
        record(false);
    }

    synchronized void failed() {
        if (state == State.HALF_OPEN) {
            open();
            return;
        }
        record(true);
        if (state == State.CLOSED && !settings.openFor().isZero() && recorded >= settings.minCalls() && failed >= settings.failureRate() * recorded) {
            open();
        }
    }

    /** A call that ended with no verdict on the provider's health (cancelled, or the client's own fault). */
    synchronized void abandoned() {
        if (state == State.HALF_OPEN) {
            probing = false;
        }
    }

    private void record(boolean failure) {
        if (recorded == failures.length && failures[next]) {
            failed--;
        }
        failures[next] = failure;
        if (failure) {
            failed++;
        }
        next = (next + 1) % failures.length;
        recorded = Math.min(recorded + 1, failures.length);
    }

    private void open() {
        state = State.OPEN;
        openUntil = clock.instant().plus(settings.openFor());
        probing = false;
        reset();
    }

    private void reset() {
        java.util.Arrays.fill(failures, false);
        recorded = 0;
        next = 0;
        failed = 0;
    }
}
