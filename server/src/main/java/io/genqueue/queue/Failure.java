package io.genqueue.queue;

import io.genqueue.generation.ErrorType;
import java.util.List;

/**
 * Why a job ended without images.
 *
 * @param message what the client sees in {@code error}: something a person can act on
 * @param loc where in the request the fault lies, for input faults answered as a 422 detail
 *     (e.g. {@code ["body","image_urls",1]}); empty otherwise
 */
public record Failure(ErrorType type, String message, List<Object> loc) {

    public Failure {
        loc = List.copyOf(loc);
    }

    public static Failure of(ErrorType type, String message) {
        return new Failure(type, message, List.of());
    }

    public static final String CANCELLED_MESSAGE = "Request cancelled by the client.";

    public static Failure cancelled() {
        return of(ErrorType.CANCELLED, CANCELLED_MESSAGE);
    }
}
