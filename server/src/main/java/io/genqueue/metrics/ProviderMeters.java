package io.genqueue.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Each call to an upstream provider: {@code genqueue_provider_calls_total{provider,outcome}} and
 * {@code genqueue_provider_call_seconds{provider}}. Thread-safe; no allocation once a provider was seen.
 */
public final class ProviderMeters {

    /** How one provider call ended. */
    public enum CallOutcome {
        /** It returned images. */
        SUCCEEDED,
        /** It failed in a way that counts against the provider's health (its breaker hears it). */
        FAILED,
        /** The provider refused the request itself (invalid input, content policy): not its fault. */
        REJECTED,
        /** It ended without a verdict: cancelled, interrupted, or a bug. */
        ABANDONED;

        final String label = name().toLowerCase(Locale.ROOT);
    }

    private record Meters(Counter[] calls, Timer seconds) {
    }

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Meters> byProvider = new ConcurrentHashMap<>();

    ProviderMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Makes the provider's series exist (at zero) before its first call. */
    public void register(String provider) {
        meters(provider);
    }

    /** A call to {@code provider} ended with {@code outcome} after {@code nanos}. */
    public void call(String provider, CallOutcome outcome, long nanos) {
        Meters m = meters(provider);
        m.calls[outcome.ordinal()].increment();
        m.seconds.record(nanos, TimeUnit.NANOSECONDS);
    }

    private Meters meters(String provider) {
        Meters m = byProvider.get(provider);
        return m != null ? m : byProvider.computeIfAbsent(provider, p -> {
            CallOutcome[] outcomes = CallOutcome.values();
            Counter[] calls = new Counter[outcomes.length];
            for (CallOutcome o : outcomes) {
                calls[o.ordinal()] = Counter.builder("genqueue.provider.calls").description("Calls to upstream providers, by outcome")
                        .tag("provider", p).tag("outcome", o.label).register(registry);
            }
            Timer seconds = Timer.builder("genqueue.provider.call").description("Duration of one upstream provider call")
                    .tag("provider", p).serviceLevelObjectives(Buckets.JOB).register(registry);
            return new Meters(calls, seconds);
        });
    }
}
