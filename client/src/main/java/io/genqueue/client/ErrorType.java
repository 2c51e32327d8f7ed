package io.genqueue.client;

import java.util.Optional;

/** Why a request ended without images: the contract's {@code error_type} values. */
public enum ErrorType {
    VALIDATION_ERROR("validation_error"),
    CONTENT_POLICY_VIOLATION("content_policy_violation"),
    IMAGE_FETCH_FAILED("image_fetch_failed"),
    PROVIDER_ERROR("provider_error"),
    PROVIDER_UNAVAILABLE("provider_unavailable"),
    REQUEST_TIMEOUT("request_timeout"),
    CANCELLED("cancelled"),
    INTERNAL_ERROR("internal_error");

    private final String wire;

    ErrorType(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    /** Empty for a value this client does not know (a newer server's). */
    public static Optional<ErrorType> fromWire(String value) {
        for (ErrorType t : values()) {
            if (t.wire.equals(value)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
