package io.genqueue.queue;

import java.time.Instant;

/** One line of a job's log, as the status endpoint shows it with {@code ?logs=1}. */
public record LogEntry(Instant timestamp, Level level, String message) {

    public enum Level { DEBUG, INFO, WARN, ERROR }

    public static LogEntry info(Instant at, String message) {
        return new LogEntry(at, Level.INFO, message);
    }

    public static LogEntry warn(Instant at, String message) {
        return new LogEntry(at, Level.WARN, message);
    }

    public static LogEntry error(Instant at, String message) {
        return new LogEntry(at, Level.ERROR, message);
    }
}
