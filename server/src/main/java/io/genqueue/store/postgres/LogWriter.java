package io.genqueue.store.postgres;

import io.genqueue.queue.LogEntry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Job log lines, written in the background in batches, in the order they were logged.
 *
 * <p>{@link #flush} writes whatever is pending and returns when it is committed; a worker's
 * transition calls it first, which is what orders a job's log lines before its outcome. One
 * flush runs at a time (the lock), so a line taken by a background flush is committed before a
 * later flush returns.
 */
final class LogWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LogWriter.class);

    private record Line(String jobId, LogEntry entry) {
    }

    private final Jdbc jdbc;
    private final Object flushLock = new Object();
    private final Thread thread;
    private List<Line> pending = new ArrayList<>(); // guarded by this
    private boolean closed;                          // guarded by this

    LogWriter(Jdbc jdbc) {
        this.jdbc = jdbc;
        this.thread = Thread.ofPlatform().name("genqueue-pg-logs").daemon().start(this::loop);
    }

    synchronized void append(String jobId, LogEntry entry) {
        pending.add(new Line(jobId, entry));
        notifyAll();
    }

    /** Writes every line appended so far; returns once they are committed (or failed, logged). */
    void flush() {
        synchronized (flushLock) {
            List<Line> lines;
            synchronized (this) {
                if (pending.isEmpty()) {
                    return;
                }
                lines = pending;
                pending = new ArrayList<>();
            }
            try {
                jdbc.autocommit(c -> {
                    insert(c, lines);
                    return null;
                });
            } catch (RuntimeException e) {
                log.warn("could not store {} job log line(s): {}", lines.size(), e.toString());
            }
        }
    }

    /** Inserts log lines on the caller's connection (inside its transaction). */
    static void insert(Connection c, List<Line> lines) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, ?, ?)")) {
            for (Line line : lines) {
                ps.setString(1, line.jobId());
                ps.setLong(2, line.entry().timestamp().toEpochMilli());
                ps.setString(3, line.entry().level().name());
                ps.setString(4, line.entry().message());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Inserts one line on the caller's connection (inside its transaction). */
    static void insert(Connection c, String jobId, LogEntry entry) throws SQLException {
        insert(c, List.of(new Line(jobId, entry)));
    }

    private void loop() {
        while (true) {
            synchronized (this) {
                while (pending.isEmpty() && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (pending.isEmpty()) {
                    return;
                }
            }
            flush();
        }
    }

    /** Writes what is pending, then stops. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flush();
    }
}
