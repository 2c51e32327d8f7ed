package io.genqueue.client;

import java.util.List;

/**
 * The request completed without images: one nested class per {@code error_type}.
 * {@link #error()} is the server's message, meant for a person.
 */
public abstract sealed class RequestFailedException extends GenQueueException {

    private final String requestId;
    private final String errorTypeWire;
    private final String error;
    private final List<FieldError> fieldErrors;

    RequestFailedException(String requestId, String errorTypeWire, String error, List<FieldError> fieldErrors) {
        super("request " + requestId + " failed (" + errorTypeWire + "): " + error);
        this.requestId = requestId;
        this.errorTypeWire = errorTypeWire;
        this.error = error;
        this.fieldErrors = List.copyOf(fieldErrors);
    }

    static RequestFailedException of(String requestId, String errorTypeWire, String error, List<FieldError> fieldErrors) {
        ErrorType type = ErrorType.fromWire(errorTypeWire).orElse(null);
        if (type == null) {
            return new Other(requestId, errorTypeWire, error, fieldErrors);
        }
        return switch (type) {
            case VALIDATION_ERROR -> new ValidationError(requestId, error, fieldErrors);
            case CONTENT_POLICY_VIOLATION -> new ContentPolicyViolation(requestId, error, fieldErrors);
            case IMAGE_FETCH_FAILED -> new ImageFetchFailed(requestId, error, fieldErrors);
            case PROVIDER_ERROR -> new ProviderError(requestId, error);
            case PROVIDER_UNAVAILABLE -> new ProviderUnavailable(requestId, error);
            case REQUEST_TIMEOUT -> new RequestTimeout(requestId, error);
            case CANCELLED -> new Cancelled(requestId, error);
            case INTERNAL_ERROR -> new InternalError(requestId, error);
        };
    }

    public String requestId() {
        return requestId;
    }

    /** The {@code error_type} as sent (also for a type this client does not know). */
    public String errorTypeWire() {
        return errorTypeWire;
    }

    public String error() {
        return error;
    }

    /** For the input faults (422 results): each message with its {@code loc}; else empty. */
    public List<FieldError> fieldErrors() {
        return fieldErrors;
    }

    /** {@code validation_error}. */
    public static final class ValidationError extends RequestFailedException {
        ValidationError(String id, String error, List<FieldError> fields) {
            super(id, ErrorType.VALIDATION_ERROR.wire(), error, fields);
        }
    }

    /** {@code content_policy_violation}: the model refused the prompt or an image. */
    public static final class ContentPolicyViolation extends RequestFailedException {
        ContentPolicyViolation(String id, String error, List<FieldError> fields) {
            super(id, ErrorType.CONTENT_POLICY_VIOLATION.wire(), error, fields);
        }
    }

    /** {@code image_fetch_failed}: a reference image could not be fetched or used. */
    public static final class ImageFetchFailed extends RequestFailedException {
        ImageFetchFailed(String id, String error, List<FieldError> fields) {
            super(id, ErrorType.IMAGE_FETCH_FAILED.wire(), error, fields);
        }
    }

    /** {@code provider_error}. */
    public static final class ProviderError extends RequestFailedException {
        ProviderError(String id, String error) {
            super(id, ErrorType.PROVIDER_ERROR.wire(), error, List.of());
        }
    }

    /** {@code provider_unavailable}. */
    public static final class ProviderUnavailable extends RequestFailedException {
        ProviderUnavailable(String id, String error) {
            super(id, ErrorType.PROVIDER_UNAVAILABLE.wire(), error, List.of());
        }
    }

    /** {@code request_timeout}: it did not start, or finish, in time. */
    public static final class RequestTimeout extends RequestFailedException {
        RequestTimeout(String id, String error) {
            super(id, ErrorType.REQUEST_TIMEOUT.wire(), error, List.of());
        }
    }

    /** {@code cancelled}. */
    public static final class Cancelled extends RequestFailedException {
        Cancelled(String id, String error) {
            super(id, ErrorType.CANCELLED.wire(), error, List.of());
        }
    }

    /** {@code internal_error}. */
    public static final class InternalError extends RequestFailedException {
        InternalError(String id, String error) {
            super(id, ErrorType.INTERNAL_ERROR.wire(), error, List.of());
        }
    }

    /** An {@code error_type} newer than this client. */
    public static final class Other extends RequestFailedException {
        Other(String id, String type, String error, List<FieldError> fields) {
            super(id, type, error, fields);
        }
    }
}
