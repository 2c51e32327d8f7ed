package io.genqueue.metrics;

import io.genqueue.generation.ErrorType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * A request's life: {@code genqueue_requests_submitted_total{model}},
 * {@code genqueue_requests_completed_total{model,outcome,error_type}} ({@code outcome} is
 * {@code succeeded}, {@code failed} or {@code cancelled}; {@code error_type} the contract's error type
 * of a failure, {@code none} otherwise), {@code genqueue_pickup_seconds} (from when a job was due to
 * its claim) and {@code genqueue_run_seconds} (one attempt). With the tenant label, the two counters
 * carry {@code tenant} too.
 *
 * <p>Counted where it happens, in the process it happens in: a submit where it is stored, a
 * completion where a run or a cancel ends the job. Thread-safe; no allocation once a label value
 * was seen.
 */
public final class JobMeters {

    private static final String NO_TENANT = "";
    private static final ErrorType[] ERRORS = ErrorType.values();
    /** Completion counters per (model, tenant): [succeeded, cancelled, failed by error type...]. */
    private static final int SUCCEEDED = 0;
    private static final int CANCELLED = 1;
    private static final int FAILED = 2;

    private final MeterRegistry registry;
    private final boolean tenantLabel;
    private final ConcurrentMap<String, ConcurrentMap<String, Counter>> submitted = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, ConcurrentMap<String, Counter[]>> completed = new ConcurrentHashMap<>();
    private final Timer pickup;
    private final Timer run;

    JobMeters(MeterRegistry registry, Set<String> models, boolean tenantLabel) {
        this.registry = registry;
        this.tenantLabel = tenantLabel;
        this.pickup = Timer.builder("genqueue.pickup").description("From when a job was due (submitted, or its retry delay over) "
                + "to its claim by a worker").serviceLevelObjectives(Buckets.JOB).register(registry);
        this.run = Timer.builder("genqueue.run").description("One attempt of a job, from its claim to its outcome")
                .serviceLevelObjectives(Buckets.JOB).register(registry);
        if (!tenantLabel) {
            for (String model : models) { // their series exist from the first scrape, at zero
                submittedCounter(model, NO_TENANT);
                completedCounters(model, NO_TENANT);
            }
        }
    }

    /** A new job was stored (not an idempotent repeat). */
    public void submitted(String model, String tenant) {
        submittedCounter(model, tenantKey(tenant)).increment();
    }

    /** A job ended with images. */
    public void succeeded(String model, String tenant) {
        completedCounters(model, tenantKey(tenant))[SUCCEEDED].increment();
    }

    /** A job ended failed with {@code type}. */
    public void failed(String model, String tenant, ErrorType type) {
        completedCounters(model, tenantKey(tenant))[FAILED + type.ordinal()].increment();
    }

    /** A job ended cancelled (queued or running). */
    public void cancelled(String model, String tenant) {
        completedCounters(model, tenantKey(tenant))[CANCELLED].increment();
    }

    /** A worker claimed a job that had waited {@code waited} since it was due. */
    public void pickedUp(Duration waited) {
        pickup.record(waited.isNegative() ? 0 : waited.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** An attempt ended (however) after {@code nanos}. */
    public void ran(long nanos) {
        run.record(nanos, TimeUnit.NANOSECONDS);
    }

    private String tenantKey(String tenant) {
        return tenantLabel ? tenant : NO_TENANT;
    }

    private Counter submittedCounter(String model, String tenant) {
        ConcurrentMap<String, Counter> byTenant = submitted.get(model);
        Counter c = byTenant == null ? null : byTenant.get(tenant);
        if (c != null) {
            return c;
        }
        return submitted.computeIfAbsent(model, m -> new ConcurrentHashMap<>()).computeIfAbsent(tenant,
                t -> tagged(Counter.builder("genqueue.requests.submitted").description("Requests stored as new jobs")
                        .tag("model", model), t).register(registry));
    }

    private Counter[] completedCounters(String model, String tenant) {
        ConcurrentMap<String, Counter[]> byTenant = completed.get(model);
        Counter[] c = byTenant == null ? null : byTenant.get(tenant);
        if (c != null) {
            return c;
        }
        return completed.computeIfAbsent(model, m -> new ConcurrentHashMap<>()).computeIfAbsent(tenant, t -> {
            Counter[] counters = new Counter[FAILED + ERRORS.length];
            counters[SUCCEEDED] = completedCounter(model, t, "succeeded", "none");
            counters[CANCELLED] = completedCounter(model, t, "cancelled", "none");
            for (ErrorType type : ERRORS) {
                counters[FAILED + type.ordinal()] = completedCounter(model, t, "failed", type.wire());
            }
            return counters;
        });
    }

    private Counter completedCounter(String model, String tenant, String outcome, String errorType) {
        return tagged(Counter.builder("genqueue.requests.completed").description("Requests that ended, by outcome")
                .tag("model", model).tag("outcome", outcome).tag("error_type", errorType.toLowerCase(Locale.ROOT)), tenant)
                .register(registry);
    }

    private Counter.Builder tagged(Counter.Builder b, String tenant) {
        return tenantLabel ? b.tag("tenant", tenant) : b;
    }
}
