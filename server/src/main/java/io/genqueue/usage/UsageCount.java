package io.genqueue.usage;

import java.time.LocalDate;
import java.util.Objects;

/**
 * One counter as a store keeps it: requests of one tenant, UTC day and model that reached one
 * {@link Counted} point, summed over however the store spreads it.
 *
 * @param errorType the job's {@code error_type} for {@link Counted#FAILED}; empty otherwise
 * @param provider the provider that made the images for {@link Counted#SUCCEEDED}; empty otherwise
 * @param images images made (succeeded requests only)
 * @param providerMillis the succeeded runs' time, from the start of the run to its images stored
 */
public record UsageCount(String tenant, LocalDate day, String model, Counted counted, String errorType, String provider,
        long requests, long images, long providerMillis) {

    public UsageCount {
        Objects.requireNonNull(tenant);
        Objects.requireNonNull(day);
        Objects.requireNonNull(model);
        Objects.requireNonNull(counted);
        errorType = errorType == null ? "" : errorType;
        provider = provider == null ? "" : provider;
    }

    /** What a counter counts, and which day it lands on. */
    public enum Counted {
        /** Accepted by submit, on the day of the submit (an idempotent repeat is not counted again). */
        SUBMITTED,
        /** Ended with images, on the day it ended; the rest end the same way. */
        SUCCEEDED,
        FAILED,
        CANCELLED
    }
}
