package io.genqueue.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The HTTP edge: {@code http_server_requests_seconds{method,uri,status}} and
 * {@code genqueue_rate_limited_total} (every {@code 429} the gateway itself answers).
 *
 * <p>{@code uri} must be a route template ({@code /v1/queue/{model}/requests/{request_id}/status}),
 * never a raw path: the caller passes the template the request matched, or {@link #UNMATCHED}. A
 * method outside the standard ones is counted as {@code OTHER}, so a client cannot make series at will.
 * Thread-safe; no allocation once a (route, method, status) was seen.
 */
public final class HttpMeters {

    /** The {@code uri} of a request no route matched (a 404 or 405 of the route table). */
    public static final String UNMATCHED = "UNMATCHED";

    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

    private final MeterRegistry registry;
    private final Counter rateLimited;
    /** route template, then method, then status code: the timer. */
    private final ConcurrentMap<String, ConcurrentMap<String, AtomicReferenceArray<Timer>>> timers = new ConcurrentHashMap<>();

    HttpMeters(MeterRegistry registry) {
        this.registry = registry;
        this.rateLimited = Counter.builder("genqueue.rate.limited").description("Requests answered 429 by the gateway's limits")
                .register(registry);
    }

    /** The gateway answered a {@code 429}. */
    public void rateLimited() {
        rateLimited.increment();
    }

    /**
     * A request to {@code uri} (a route template or {@link #UNMATCHED}) was answered {@code status}
     * after {@code nanos}.
     */
    public void request(String method, String uri, int status, long nanos) {
        String m = METHODS.contains(method) ? method : "OTHER";
        ConcurrentMap<String, AtomicReferenceArray<Timer>> byMethod = timers.get(uri);
        if (byMethod == null) {
            byMethod = timers.computeIfAbsent(uri, u -> new ConcurrentHashMap<>());
        }
        AtomicReferenceArray<Timer> byStatus = byMethod.get(m);
        if (byStatus == null) {
            byStatus = byMethod.computeIfAbsent(m, x -> new AtomicReferenceArray<>(600));
        }
        int code = status >= 100 && status < 600 ? status : 0;
        Timer timer = byStatus.get(code);
        if (timer == null) {
            timer = Timer.builder("http.server.requests").description("HTTP requests, by route template, method and status")
                    .tag("method", m).tag("uri", uri).tag("status", Integer.toString(code))
                    .serviceLevelObjectives(Buckets.HTTP).register(registry); // the registry returns the one already made
            byStatus.set(code, timer);
        }
        timer.record(nanos, TimeUnit.NANOSECONDS);
    }
}
