package io.genqueue.metrics;

import io.genqueue.queue.QueueDepth;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The queue as the store sees it (so the same on every process of a cluster), asked once per
 * {@code cacheFor} however many series and scrapers read it. A store that fails leaves the last
 * answer in place (the series go stale rather than drop to zero), and the failure is tried again
 * at the next scrape after {@code cacheFor}.
 */
final class QueueGauges {

    private final Supplier<List<QueueDepth>> store;
    private final Duration cacheFor;
    private final Clock clock;
    private List<QueueDepth> last = List.of(); // guarded by this
    private Instant lastAsked = Instant.MIN; // guarded by this

    QueueGauges(Supplier<List<QueueDepth>> store, Duration cacheFor, Clock clock) {
        this.store = store;
        this.cacheFor = cacheFor;
        this.clock = clock;
    }

    void register(MeterRegistry registry, Set<String> models) {
        for (String model : models) {
            Gauge.builder("genqueue.queue.depth", () -> find(model).queued()).tag("model", model).tag("state", "queued")
                    .description("Jobs of the model waiting in the queue (whole cluster)").register(registry);
            Gauge.builder("genqueue.queue.depth", () -> find(model).running()).tag("model", model).tag("state", "running")
                    .description("Jobs of the model waiting in the queue (whole cluster)").register(registry);
            Gauge.builder("genqueue.queue.oldest.age", () -> oldestAgeSeconds(model)).tag("model", model).baseUnit("seconds")
                    .description("Age of the oldest queued job of the model since its submit; 0 when none waits")
                    .register(registry);
        }
    }

    private double oldestAgeSeconds(String model) {
        Instant oldest = find(model).oldestQueued();
        if (oldest == null) {
            return 0;
        }
        return Math.max(0, Duration.between(oldest, clock.instant()).toMillis() / 1000.0);
    }

    private QueueDepth find(String model) {
        for (QueueDepth d : snapshot()) {
            if (d.model().equals(model)) {
                return d;
            }
        }
        return new QueueDepth(model, 0, 0, null);
    }

    private synchronized List<QueueDepth> snapshot() {
        Instant now = clock.instant();
        if (Duration.between(lastAsked, now).compareTo(cacheFor) >= 0 || now.isBefore(lastAsked)) {
            lastAsked = now;
            try {
                last = store.get();
            } catch (RuntimeException e) {
                // the store is down: the last answer stands until the next try (readiness reports the outage)
            }
        }
        return last;
    }
}
