package io.genqueue.client;

import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** One HTTP answer, its body read whole. */
record Answer(int status, byte[] body, HttpHeaders headers) {

    boolean ok() {
        return status >= 200 && status < 300;
    }

    /** A 503 the server meant as "later" (overload, storage down), not a request's failure. */
    boolean retryable() {
        return status == 429 || (status == 503 && headers.firstValue("X-Fal-Error-Type").isEmpty());
    }

    /** {@code Retry-After} as a delay: seconds, or an HTTP date. */
    Optional<Duration> retryAfter() {
        String v = headers.firstValue("Retry-After").map(String::strip).orElse("");
        if (v.isEmpty()) {
            return Optional.empty();
        }
        try {
            double seconds = Double.parseDouble(v);
            return seconds >= 0 ? Optional.of(Duration.ofMillis((long) (seconds * 1000))) : Optional.empty();
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(Instant.now(), ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }
    }
}
