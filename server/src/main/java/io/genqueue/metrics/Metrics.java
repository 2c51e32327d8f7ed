package io.genqueue.metrics;

import io.genqueue.queue.QueueDepth;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The process's meters, in one Micrometer registry, and the Prometheus text they scrape to. The
 * other packages see only the small groups made here ({@link JobMeters}, {@link ProviderMeters},
 * {@link WebhookMeters}, {@link HttpMeters}), each with a method per event; none of them sees
 * Micrometer's tags. Every group resolves its meters once per label value and keeps them, so an
 * event on a hot path (a submit, a status read) is a map lookup and an add, with nothing allocated.
 *
 * <p>{@link #none()} records nothing (metrics off, tests of other parts): the same groups over a
 * registry with no backend, whose meters are no-ops.
 *
 * <p>Labels are bounded: models and providers come from the configuration, outcomes and error types
 * are closed sets, routes are the route table's templates. A tenant label (tenants are as many as
 * the keys) is added only with {@code tenantLabel}.
 */
public final class Metrics implements AutoCloseable {

    private final MeterRegistry registry;
    private final PrometheusMeterRegistry prometheus; // null for none()
    private final JvmGcMetrics gc;
    private final JobMeters jobs;
    private final ProviderMeters providers;
    private final WebhookMeters webhooks;
    private final HttpMeters http;

    private Metrics(MeterRegistry registry, PrometheusMeterRegistry prometheus, Set<String> models, boolean tenantLabel) {
        this.registry = registry;
        this.prometheus = prometheus;
        this.jobs = new JobMeters(registry, models, tenantLabel);
        this.providers = new ProviderMeters(registry);
        this.webhooks = new WebhookMeters(registry);
        this.http = new HttpMeters(registry);
        if (prometheus != null) {
            new JvmMemoryMetrics().bindTo(registry);
            new JvmThreadMetrics().bindTo(registry);
            new ClassLoaderMetrics().bindTo(registry);
            new ProcessorMetrics().bindTo(registry);
            new UptimeMetrics().bindTo(registry);
            new FileDescriptorMetrics().bindTo(registry);
            gc = new JvmGcMetrics();
            gc.bindTo(registry);
        } else {
            gc = null;
        }
    }

    /**
     * Meters scraped as Prometheus text, with the JVM's own.
     *
     * @param models the configured models: their series exist (at zero) from the start
     * @param tenantLabel whether submits and completions carry a {@code tenant} label
     */
    public static Metrics prometheus(Set<String> models, boolean tenantLabel) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        return new Metrics(registry, registry, models, tenantLabel);
    }

    /** Meters that record nothing. */
    public static Metrics none() {
        return new Metrics(new CompositeMeterRegistry(), null, Set.of(), false);
    }

    /** Whether there is anything to scrape (false for {@link #none()}). */
    public boolean enabled() {
        return prometheus != null;
    }

    /** The Prometheus text exposition (format 0.0.4) of every meter; empty for {@link #none()}. */
    public String scrape() {
        return prometheus == null ? "" : prometheus.scrape();
    }

    public JobMeters jobs() {
        return jobs;
    }

    public ProviderMeters providers() {
        return providers;
    }

    public WebhookMeters webhooks() {
        return webhooks;
    }

    public HttpMeters http() {
        return http;
    }

    /**
     * {@code genqueue_queue_depth{model,state}} and {@code genqueue_queue_oldest_age_seconds{model}}
     * from the store, so they are right for the whole cluster whichever process is scraped. One
     * store query answers every series of a scrape: its answer is kept for {@code cacheFor}.
     *
     * @param models the configured models (a model with no job shows zero)
     */
    public void queueDepth(Set<String> models, Supplier<List<QueueDepth>> store, Duration cacheFor, Clock clock) {
        new QueueGauges(store, cacheFor, clock).register(registry, models);
    }

    /**
     * {@code genqueue_breaker_state{provider}}: 0 closed, 1 half-open, 2 open.
     *
     * @param states each provider's breaker state as the router reports it ({@code closed}, {@code half_open}, {@code open}), read at each scrape
     */
    public void breakers(Supplier<Map<String, String>> states) {
        BreakerGauges.register(registry, states);
    }

    /**
     * {@code genqueue_disk_low} (0/1) and {@code genqueue_disk_free_bytes}, from the free-space
     * watermark's last sample (no disk access at a scrape).
     */
    public void disk(BooleanSupplier low, LongSupplier freeBytes) {
        DiskGauges.register(registry, low, freeBytes);
    }

    @Override
    public void close() {
        if (gc != null) {
            gc.close();
        }
        registry.close();
    }
}
