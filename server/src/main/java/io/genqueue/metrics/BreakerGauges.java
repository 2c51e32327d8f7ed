package io.genqueue.metrics;

import io.genqueue.provider.ProviderHealth;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.function.Supplier;

/** {@code genqueue_breaker_state{provider}}: 0 closed, 1 half-open, 2 open; read from the router at each scrape. */
final class BreakerGauges {

    private BreakerGauges() {
    }

    static void register(MeterRegistry registry, Supplier<List<ProviderHealth>> health) {
        for (ProviderHealth p : health.get()) {
            String name = p.provider();
            Gauge.builder("genqueue.breaker.state", () -> state(health.get(), name))
                    .description("Circuit breaker of a provider: 0 closed, 1 half-open, 2 open").tag("provider", name)
                    .register(registry);
        }
    }

    private static double state(List<ProviderHealth> providers, String name) {
        for (ProviderHealth p : providers) {
            if (p.provider().equals(name)) {
                return switch (p.state()) {
                    case "open" -> 2;
                    case "half_open" -> 1;
                    default -> 0;
                };
            }
        }
        return Double.NaN;
    }
}
