package io.genqueue.provider;

import io.genqueue.generation.ErrorType;
import java.time.Duration;
import java.util.Optional;

/**
 * A provider's failure, classified. The message is shown to the client in {@code error}, so it
 * must be something a person can act on and must never contain a key or other secret.
 */
public final class ProviderException extends RuntimeException {

    private final ErrorType type;
    private final boolean retryable;
    private final Duration retryAfter;

    private ProviderException(ErrorType type, String message, boolean retryable, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.type = type;
        this.retryable = retryable;
        this.retryAfter = retryAfter;
    }

    /** A failure that another attempt may not repeat (overload, 5xx, timeout), with the provider's own delay if it named one. */
    public static ProviderException retryable(ErrorType type, String message, Duration retryAfter, Throwable cause) {
        return new ProviderException(type, message, true, retryAfter, cause);
    }

    /** A failure that would repeat on every attempt (bad input, content policy, bad key). */
    public static ProviderException fatal(ErrorType type, String message) {
        return new ProviderException(type, message, false, null, null);
    }

    /** The same failure (type, retryability, delay, cause) told differently: with context, or with a secret taken out. */
    public ProviderException withMessage(String message) {
        return new ProviderException(type, message, retryable, retryAfter, getCause());
    }

    public ErrorType type() {
        return type;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The delay the provider asked for before another attempt, if it named one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
