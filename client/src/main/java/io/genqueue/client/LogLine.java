package io.genqueue.client;

import java.time.Instant;

/** One log line of a running request: {@code level} is {@code INFO}, {@code WARN}, {@code ERROR} or {@code DEBUG}. */
public record LogLine(String message, String level, Instant timestamp) {
}
