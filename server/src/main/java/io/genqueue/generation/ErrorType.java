package io.genqueue.generation;

/**
 * Why a request ended without images: the {@code error_type} values of the contract, each with the
 * HTTP status its {@code /response} answers with.
 */
public enum ErrorType {
    VALIDATION_ERROR("validation_error", 422),
    CONTENT_POLICY_VIOLATION("content_policy_violation", 422),
    IMAGE_FETCH_FAILED("image_fetch_failed", 422),
    PROVIDER_ERROR("provider_error", 502),
    PROVIDER_UNAVAILABLE("provider_unavailable", 503),
    REQUEST_TIMEOUT("request_timeout", 504),
    CANCELLED("cancelled", 499),
    INTERNAL_ERROR("internal_error", 500);

    private final String wire;
    private final int httpStatus;

    ErrorType(String wire, int httpStatus) {
        this.wire = wire;
        this.httpStatus = httpStatus;
    }

    public String wire() {
        return wire;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** True for the failures answered with a 422 detail list: the input (or its content) was at fault. */
    public boolean isInputFault() {
        return httpStatus == 422;
    }

    public static ErrorType fromWire(String value) {
        for (ErrorType t : values()) {
            if (t.wire.equals(value)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown error type: " + value);
    }
}
