package io.genqueue.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code genqueue_breaker_state{provider}}: 0 closed, 1 half-open, 2 open; read from the router at
 * each scrape, as the states {@code /v1/models} shows ({@code closed}, {@code half_open}, {@code open}).
 */
final class BreakerGauges {

    private BreakerGauges() {
    }

    static void register(MeterRegistry registry, Supplier<Map<String, String>> states) {
        for (String name : states.get().keySet()) {
            Gauge.builder("genqueue.breaker.state", () -> state(states.get().get(name)))
                    .description("Circuit breaker of a provider: 0 closed, 1 half-open, 2 open").tag("provider", name)
                    .register(registry);
        }
    }

    private static double state(String state) {
        if (state == null) {
            return Double.NaN;
        }
        return switch (state) {
            case "open" -> 2;
            case "half_open" -> 1;
            default -> 0;
        };
    }
}
