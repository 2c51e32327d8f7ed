package io.genqueue.http;

import io.genqueue.blob.BlobStoreException;
import io.genqueue.generation.ValidationException;
import io.genqueue.generation.Violation;
import io.genqueue.auth.KeyLimits;
import io.genqueue.json.Json;
import io.genqueue.limit.RateLimiter;
import io.genqueue.queue.StoreException;
import io.genqueue.queue.SubmitOutcome;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become HTTP answers. Every answer is JSON with a {@code detail} (on
 * OpenAI's images routes, OpenAI's {@code {"error": {...}}} instead: {@link #inOpenAiShape}); no
 * exception text or stack trace of ours ever reaches a client: unexpected failures are logged here
 * with an id the client sees, and answered with a generic message.
 */
final class ErrorMapper {

    private static final Logger log = LoggerFactory.getLogger(ErrorMapper.class);

    private ErrorMapper() {
    }

    /** Answers {@code error} on {@code res}, unless a response was already started. */
    static void handle(ServerRequest req, ServerResponse res, Throwable error) {
        if (res.isSent()) {
            log.debug("{} {} failed after the response started: {}", req.prologue().method(), req.path().path(), error.toString());
            return;
        }
        ApiError api = toApiError(req, error);
        if (OpenAiImages.serves(req.path().path())) {
            api = inOpenAiShape(api);
        }
        api.headers().forEach(res::header);
        Responses.json(res, api.status(), api.body());
    }

    static ApiError toApiError(ServerRequest req, Throwable error) {
        return switch (error) {
            case ApiError api -> api;
            case ValidationException v -> validation(v.violations());
            case io.helidon.http.RequestException r when r.status().code() < 500 -> ApiError.detail(r.status().code(), "Malformed HTTP request.");
            case StoreException s -> {
                log.error("storage failed during {} {}: {}", req.prologue().method(), req.path().path(), s.toString());
                yield ApiError.detail(503, "Storage is unavailable; try again shortly.");
            }
            case BlobStoreException b -> {
                log.error("the image store failed during {} {}: {}", req.prologue().method(), req.path().path(), b.toString());
                yield ApiError.detail(503, "Storage is unavailable; try again shortly.");
            }
            default -> {
                String ref = Long.toHexString(System.nanoTime());
                log.error("unexpected failure {} during {} {}", ref, req.prologue().method(), req.path().path(), error);
                yield ApiError.detail(500, "Internal server error (reference " + ref + ").");
            }
        };
    }

    /** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}, param and code null when unknown. */
    static Map<String, Object> openAiBody(String message, String type, String param, String code) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return Map.of("error", error);
    }

    /**
     * {@code api} as OpenAI's images API answers (its routes' every error): the same status, but
     * {@code 400} for what is a 415 or a 422 detail here, with OpenAI's error types
     * ({@code invalid_request_error}, {@code requests} for 429, {@code server_error} for 5xx). A 422
     * detail's violations become one message (each prefixed with its OpenAI parameter) and the first
     * one's {@code param}; a job's content refusal is {@code 400} with code
     * {@code content_policy_violation}, as OpenAI's moderation answers. A body already in OpenAI's
     * shape passes unchanged.
     */
    static ApiError inOpenAiShape(ApiError api) {
        if (api.body() instanceof Map<?, ?> body && body.containsKey("error")) {
            return api;
        }
        int status = api.status();
        Object detail = api.body() instanceof Map<?, ?> body ? body.get("detail") : null;
        String message = detail == null ? "Request failed." : detail.toString();
        String param = null;
        String code = api.body() instanceof Map<?, ?> body && body.get("error_type") instanceof String t ? t : null;
        if (detail instanceof List<?> violations && !violations.isEmpty()) {
            List<String> messages = new java.util.ArrayList<>();
            for (Object item : violations) {
                List<Object> loc;
                String msg;
                String type;
                if (item instanceof Violation v) {
                    loc = v.loc();
                    msg = v.msg();
                    type = v.type();
                } else if (item instanceof Map<?, ?> m) {
                    loc = m.get("loc") instanceof List<?> l ? List.copyOf(l) : List.of();
                    msg = String.valueOf(m.get("msg"));
                    type = String.valueOf(m.get("type"));
                } else {
                    continue;
                }
                String p = OpenAiImages.param(loc);
                messages.add(p == null ? msg : p + ": " + msg);
                if (param == null && code == null) {
                    param = p;
                    code = switch (type) {
                        case "content_policy_violation", "image_fetch_failed", "json_invalid", "missing" -> type;
                        default -> "invalid_value";
                    };
                }
            }
            message = String.join("; ", messages);
            if ("content_policy_violation".equals(code)) {
                message = "Your request was rejected by the provider's safety system: " + message;
            }
            status = status == 422 ? 400 : status;
        }
        if (status == 415) {
            status = 400;
            code = "unsupported_content_type";
        }
        if (status == 401) {
            code = "invalid_api_key";
        }
        if (status == 499) {
            code = "cancelled";
        }
        String type = status >= 500 ? "server_error" : status == 429 ? "requests" : "invalid_request_error";
        if (status == 429 && code == null) {
            code = "rate_limit_exceeded";
        }
        Map<String, String> headers = new LinkedHashMap<>(api.headers());
        headers.remove("X-Fal-Error-Type");
        headers.remove("X-Fal-Request-Timeout-Type");
        return new ApiError(status, openAiBody(message, type, param, code), headers);
    }

    /**
     * How long a client whose tenant is at its {@code max_queued} is asked to wait: about one
     * short job. The store cannot know when one of its requests ends.
     */
    static final long MAX_QUEUED_RETRY_AFTER_SECONDS = 5;
    /** How long a client is asked to wait while the whole queue is full. */
    static final long QUEUE_FULL_RETRY_AFTER_SECONDS = 5;

    /** The key's token bucket is empty: {@code 429}, {@code Retry-After} when the next token is there. */
    static ApiError rateLimited(KeyLimits limits, Duration wait) {
        return ApiError.tooManyRequests("Rate limit of " + KeyLimits.formatRate(limits.rate()) + " requests/s exceeded for this key.",
                RateLimiter.retryAfterSeconds(wait));
    }

    /** The store refused a submit over the key's quota: {@code 429}; a daily limit is retried after the next UTC midnight. */
    static ApiError overQuota(SubmitOutcome.OverQuota refused, Instant now) {
        return switch (refused.kind()) {
            case MAX_QUEUED -> ApiError.tooManyRequests("Limit of " + refused.limit() + " requests queued or in progress reached "
                    + "for this tenant; submit again when one of them has completed.", MAX_QUEUED_RETRY_AFTER_SECONDS);
            case DAILY_IMAGES -> {
                Instant midnight = now.truncatedTo(ChronoUnit.DAYS).plus(Duration.ofDays(1));
                long seconds = (Duration.between(now, midnight).toMillis() + 999) / 1000;
                yield ApiError.tooManyRequests("Daily limit of " + refused.limit() + " images reached for this key; "
                        + "it resets at 00:00 UTC.", seconds);
            }
        };
    }

    /** {@code GENQUEUE_MAX_QUEUED}: the whole service's queue is full, {@code 503} with {@code Retry-After}. */
    static ApiError queueFull(long max) {
        return ApiError.unavailable("The service's queue is full (" + max + " requests waiting); try again shortly.",
                QUEUE_FULL_RETRY_AFTER_SECONDS);
    }

    /** How long a client is asked to wait while the disk is nearly full: an operator has to free space. */
    static final long DISK_LOW_RETRY_AFTER_SECONDS = 30;

    /** {@code GENQUEUE_MIN_FREE_DISK}: the disk under the data directory is nearly full, {@code 503} with {@code Retry-After}. */
    static ApiError diskLow() {
        return ApiError.unavailable("The service is low on disk space and accepts no new requests until space is freed; "
                + "requests already accepted are kept and will complete. Try again later.", DISK_LOW_RETRY_AFTER_SECONDS);
    }

    /** The 422 detail list. */
    static ApiError validation(List<Violation> violations) {
        return new ApiError(422, Map.of("detail", violations), Map.of());
    }

    /**
     * Answers for what the HTTP layer rejects before any route runs (malformed request lines and
     * headers, oversized bodies): the same JSON shape as everything else, never HTML or a trace.
     */
    static DirectHandler directHandler(long maxBodyBytes) {
        return (request, eventType, status, headers, message) -> {
            // Only bytes from the client reach these handlers (a route's failures go to handle()),
            // so a 500 here is Helidon failing on malformed input: the client's fault, a 400.
            Status answer = status;
            if (status.code() >= 500 && status.code() != 501 && status.code() != 505) {
                log.warn("the HTTP layer failed on a request ({} {}); answering 400", status.code(), message);
                answer = Status.BAD_REQUEST_400;
            }
            String detail = switch (answer.code()) {
                case 413 -> "Request body is larger than " + maxBodyBytes + " bytes.";
                case 400 -> "Malformed HTTP request.";
                case 431 -> "Request headers are too large.";
                case 501 -> "Not implemented: the request uses a feature this server does not support (e.g. a transfer coding).";
                case 505 -> "HTTP version not supported; use HTTP/1.1.";
                case 403 -> "Forbidden.";
                default -> "Request rejected.";
            };
            ServerResponseHeaders out = ServerResponseHeaders.create(headers);
            out.set(HeaderNames.CONTENT_TYPE, "application/json");
            String path = request.path() == null ? "" : request.path().split("\\?", 2)[0];
            Object body = OpenAiImages.serves(path)
                    ? openAiBody(detail, "invalid_request_error", null, null)
                    : Map.of("detail", detail);
            return DirectHandler.TransportResponse.builder()
                    .status(answer)
                    .headers(out)
                    .keepAlive(false)
                    .entity(Json.write(body))
                    .build();
        };
    }
}
