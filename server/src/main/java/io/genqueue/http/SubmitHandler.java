package io.genqueue.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.auth.ApiKey;
import io.genqueue.fetch.InvalidWebhookUrlException;
import io.genqueue.fetch.WebhookPoster;
import io.genqueue.generation.GenerationInput;
import io.genqueue.generation.InputValidator;
import io.genqueue.generation.ValidationException;
import io.genqueue.generation.Violation;
import io.genqueue.metrics.JobMeters;
import io.genqueue.json.Json;
import io.genqueue.limit.FreeDiskGate;
import io.genqueue.limit.QueueDepthGate;
import io.genqueue.limit.RateLimiter;
import io.genqueue.queue.JobLines;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobView;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.Priority;
import io.genqueue.queue.Quota;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.SubmitOutcome;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/queue/{model}}: checks the request in the contract's order (key, model, the key's
 * rate, the service's queue depth, free disk space, content type, size, JSON, fields and headers, all violations at
 * once), stores it durably (the store checks the key's quota as it does), and answers with its id
 * and URLs.
 */
final class SubmitHandler implements Handler {

    static final HeaderName IDEMPOTENCY_KEY = HeaderNames.create("Idempotency-Key");
    static final HeaderName PRIORITY = HeaderNames.create("X-Fal-Queue-Priority");
    static final HeaderName START_TIMEOUT = HeaderNames.create("X-Fal-Request-Start-Timeout");
    static final HeaderName START_TIMEOUT_OLD = HeaderNames.create("X-Fal-Request-Timeout");
    static final int MAX_IDEMPOTENCY_KEY = 255;
    static final double MAX_START_TIMEOUT_SECONDS = 7 * 24 * 3600;

    private final JobLookup lookup;
    private final Map<String, InputValidator> validators;
    private final JobStore store;
    private final BaseUrl baseUrl;
    private final Clock clock;
    private final JsonBody bodies;
    private final WebhookPoster webhooks;
    private final RateLimiter rates;
    private final QueueDepthGate depth;
    private final FreeDiskGate disk;
    private final JobMeters meters;

    /** @param validators each served model's, by id */
    SubmitHandler(JobLookup lookup, Map<String, InputValidator> validators, JobStore store, BaseUrl baseUrl, Clock clock,
            long maxBodyBytes, WebhookPoster webhooks, RateLimiter rates, QueueDepthGate depth, FreeDiskGate disk, JobMeters meters) {
        this.meters = meters;
        this.lookup = lookup;
        this.validators = Map.copyOf(validators);
        this.store = store;
        this.baseUrl = baseUrl;
        this.clock = clock;
        this.bodies = new JsonBody(maxBodyBytes, "send reference images as URLs rather than data URIs if they are large.");
        this.webhooks = webhooks;
        this.rates = rates;
        this.depth = depth;
        this.disk = disk;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        JobLookup.Caller caller = lookup.caller(req);
        admit(caller.key());
        JsonNode body = bodies.read(req);

        List<Violation> violations = new ArrayList<>();
        GenerationInput input = null;
        try {
            input = validators.get(caller.model()).validate(body); // the lookup admits served models only
        } catch (ValidationException e) {
            violations.addAll(e.violations());
        }
        Priority priority = priority(req, violations);
        Duration startTimeout = startTimeout(req, violations);
        String idempotencyKey = idempotencyKey(req, violations);
        String webhook = webhook(req, violations);
        if (!violations.isEmpty()) {
            throw ErrorMapper.validation(violations);
        }

        Instant now = clock.instant();
        NewJob job = newJob(caller, input, now).priority(priority)
                .startDeadline(startTimeout == null ? null : now.plus(startTimeout))
                .idempotency(idempotencyKey, idempotencyKey == null ? null
                        : requestHash(caller.model(), input, priority, startTimeout, webhook))
                .webhook(webhook, webhook == null ? null : baseUrl.of(req))
                .build();
        JobView stored = store(caller, job, now);
        Responses.requestId(res, stored.id());
        Responses.json(res, 200, StatusBody.of(stored, JobUrls.of(baseUrl.of(req), caller.model(), stored.id()), null));
    }

    /**
     * The checks before a body is read: the key's rate (429), the service's queue depth and its free disk (503).
     * Every route that submits runs them first.
     */
    void admit(ApiKey key) {
        if (key.limits().rate() > 0) { // a key without a rate never reaches the limiter
            rates.acquire(key).ifPresent(wait -> {
                throw ErrorMapper.rateLimited(key.limits(), wait);
            });
        }
        if (!depth.admits()) {
            throw ErrorMapper.queueFull(depth.max());
        }
        if (disk.low()) {
            throw ErrorMapper.diskLow();
        }
    }

    /** A new job of {@code caller}'s tenant and model under the key's quota, with a new id, created {@code now}. */
    NewJob.Builder newJob(JobLookup.Caller caller, GenerationInput input, Instant now) {
        return NewJob.builder(RequestIds.next(clock), caller.tenant(), caller.model(), input, now)
                .quota(new Quota(caller.key().keyId(), caller.key().limits().maxQueued(), caller.key().limits().dailyImages()));
    }

    /**
     * Stores {@code job} durably, counted and logged as submitted; the job an idempotency key
     * already stored is returned as it is. @throws ApiError 409 for a reused key with another
     * request, 429 over the key's quota
     */
    JobView store(JobLookup.Caller caller, NewJob job, Instant now) {
        SubmitOutcome outcome = store.submit(job);
        return switch (outcome) {
            case SubmitOutcome.Created c -> {
                meters.submitted(caller.model(), caller.tenant());
                JobLines.submitted(c.job().id(), caller.tenant(), caller.model());
                yield c.job();
            }
            case SubmitOutcome.Existing e -> e.job();
            case SubmitOutcome.Conflict c -> throw ApiError.detail(409, "Idempotency-Key was already used within 24 h for a "
                    + "different request (" + c.existingId() + "); use a new key for a new request.");
            case SubmitOutcome.OverQuota o -> throw ErrorMapper.overQuota(o, now);
        };
    }

    private static Priority priority(ServerRequest req, List<Violation> violations) {
        var value = req.headers().first(PRIORITY);
        if (value.isEmpty()) {
            return Priority.NORMAL;
        }
        return Priority.fromWire(value.get()).orElseGet(() -> {
            violations.add(new Violation(List.of("header", "x-fal-queue-priority"), "Input should be 'normal' or 'low'", "enum"));
            return Priority.NORMAL;
        });
    }

    /** {@code X-Fal-Request-Start-Timeout} (or the deprecated {@code X-Fal-Request-Timeout}), in seconds. */
    private static Duration startTimeout(ServerRequest req, List<Violation> violations) {
        HeaderName name = req.headers().contains(START_TIMEOUT) ? START_TIMEOUT : START_TIMEOUT_OLD;
        var value = req.headers().first(name);
        if (value.isEmpty()) {
            return null;
        }
        double seconds;
        try {
            seconds = Double.parseDouble(value.get().strip());
        } catch (NumberFormatException e) {
            seconds = Double.NaN;
        }
        if (!(seconds > 0 && seconds <= MAX_START_TIMEOUT_SECONDS)) {
            violations.add(new Violation(List.of("header", name.lowerCase()),
                    "Input should be a number of seconds greater than 0 and at most " + (long) MAX_START_TIMEOUT_SECONDS, "value_error"));
            return null;
        }
        return Duration.ofMillis(Math.max(1, Math.round(seconds * 1000)));
    }

    /** {@code ?fal_webhook=}: checked now (scheme, form, a literal address); its name is checked again at each delivery. */
    private String webhook(ServerRequest req, List<Violation> violations) {
        var value = req.query().first("fal_webhook");
        if (value.isEmpty()) {
            return null;
        }
        try {
            return webhooks.check(value.get()).url();
        } catch (InvalidWebhookUrlException e) {
            violations.add(new Violation(List.of("query", "fal_webhook"), e.getMessage(), "value_error"));
            return null;
        }
    }

    private static String idempotencyKey(ServerRequest req, List<Violation> violations) {
        var value = req.headers().first(IDEMPOTENCY_KEY);
        if (value.isEmpty()) {
            return null;
        }
        String key = value.get();
        boolean printable = !key.isEmpty() && key.length() <= MAX_IDEMPOTENCY_KEY && key.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
        if (!printable || key.isBlank()) {
            violations.add(new Violation(List.of("header", "idempotency-key"),
                    "Input should be 1 to " + MAX_IDEMPOTENCY_KEY + " printable ASCII characters", "value_error"));
            return null;
        }
        return key;
    }

    /** A digest of everything that defines a request, compared when an idempotency key is reused. */
    private static String requestHash(String model, GenerationInput input, Priority priority, Duration startTimeout,
            String webhook) {
        Map<String, Object> canonical = Map.of("model", model, "input", input, "priority", priority.wire(),
                "start_timeout_ms", startTimeout == null ? -1 : startTimeout.toMillis(), "webhook", webhook == null ? "" : webhook);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(Json.writeString(new java.util.TreeMap<>(canonical))
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

}
