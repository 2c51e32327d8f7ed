package io.genqueue.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An answer other than success, decided by a handler: the status, the JSON body, and any headers.
 * Thrown by handlers and turned into a response in one place, {@link ErrorMapper}.
 */
final class ApiError extends RuntimeException {

    private final int status;
    private final Object body;
    private final Map<String, String> headers;

    ApiError(int status, Object body, Map<String, String> headers) {
        super(null, null, false, false);
        this.status = status;
        this.body = body;
        this.headers = Map.copyOf(headers);
    }

    /** {@code {"detail": message}} with {@code status}. */
    static ApiError detail(int status, String message) {
        return new ApiError(status, Map.of("detail", message), Map.of());
    }

    static ApiError notFound() {
        return detail(404, "Request not found");
    }

    static ApiError unauthorized(String message) {
        return new ApiError(401, Map.of("detail", message), Map.of("WWW-Authenticate", "Bearer"));
    }

    /** {@code 429}: a limit of the caller's key; {@code Retry-After} says when to try again (whole seconds, at least 1). */
    static ApiError tooManyRequests(String message, long retryAfterSeconds) {
        return new ApiError(429, Map.of("detail", message), Map.of("Retry-After", Long.toString(Math.max(1, retryAfterSeconds))));
    }

    /** {@code 503}: the service is full for now (backpressure), with {@code Retry-After} in whole seconds. */
    static ApiError unavailable(String message, long retryAfterSeconds) {
        return new ApiError(503, Map.of("detail", message), Map.of("Retry-After", Long.toString(Math.max(1, retryAfterSeconds))));
    }

    /** The flat upstream-failure shape: {@code {"detail","error_type"}} and {@code X-Fal-Error-Type}. */
    static ApiError upstream(int status, String message, String errorType, Map<String, String> extraHeaders) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("detail", message);
        body.put("error_type", errorType);
        Map<String, String> headers = new LinkedHashMap<>(extraHeaders);
        headers.put("X-Fal-Error-Type", errorType);
        return new ApiError(status, body, headers);
    }

    int status() {
        return status;
    }

    Object body() {
        return body;
    }

    Map<String, String> headers() {
        return headers;
    }
}
