package io.genqueue.client;

import java.time.Duration;
import java.util.Optional;

/**
 * An error answer that is not about the input and not a request's failure: one nested class per
 * status a caller acts on, and one per HTTP class for the rest.
 */
public abstract sealed class HttpException extends GenQueueException {

    private final int status;
    private final String detail;

    HttpException(int status, String detail) {
        super("HTTP " + status + ": " + detail);
        this.status = status;
        this.detail = detail;
    }

    public int status() {
        return status;
    }

    /** The answer's {@code detail} (or the cancel route's {@code status}). */
    public String detail() {
        return detail;
    }

    static HttpException of(int status, String detail, Optional<Duration> retryAfter) {
        return switch (status) {
            case 400 -> new BadRequest(detail);
            case 401 -> new Unauthorized(detail);
            case 404 -> new NotFound(detail);
            case 409 -> new Conflict(detail);
            case 410 -> new Gone(detail);
            case 429 -> new RateLimited(detail, retryAfter.orElse(null));
            default -> status >= 500 ? new ServerError(status, detail) : new ClientError(status, detail);
        };
    }

    /** A {@code 4xx} answer. */
    public static sealed class ClientError extends HttpException permits BadRequest, Unauthorized, NotFound, Conflict, Gone, RateLimited {
        ClientError(int status, String detail) {
            super(status, detail);
        }
    }

    /** A {@code 5xx} answer that was not a request's failure (those are {@link RequestFailedException}). */
    public static final class ServerError extends HttpException {
        ServerError(int status, String detail) {
            super(status, detail);
        }
    }

    /** {@code 400}: such as a result asked for before the request completed. */
    public static final class BadRequest extends ClientError {
        BadRequest(String detail) {
            super(400, detail);
        }
    }

    /** {@code 401}: the API key is missing, unknown or revoked. */
    public static final class Unauthorized extends ClientError {
        Unauthorized(String detail) {
            super(401, detail);
        }
    }

    /** {@code 404}: no such request for this key (or no such model). */
    public static final class NotFound extends ClientError {
        NotFound(String detail) {
            super(404, detail);
        }
    }

    /** {@code 409}: the Idempotency-Key was used before with another body. */
    public static final class Conflict extends ClientError {
        Conflict(String detail) {
            super(409, detail);
        }
    }

    /** {@code 410}: the result is past its retention. */
    public static final class Gone extends ClientError {
        Gone(String detail) {
            super(410, detail);
        }
    }

    /** {@code 429} still answered after the retries; {@link #retryAfter()} as the server asked. */
    public static final class RateLimited extends ClientError {
        private final Duration retryAfter;

        RateLimited(String detail, Duration retryAfter) {
            super(429, detail);
            this.retryAfter = retryAfter;
        }

        public Optional<Duration> retryAfter() {
            return Optional.ofNullable(retryAfter);
        }
    }
}
