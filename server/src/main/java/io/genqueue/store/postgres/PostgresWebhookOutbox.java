package io.genqueue.store.postgres;

import io.genqueue.queue.LogEntry;
import io.genqueue.webhook.WebhookOutbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The webhook outbox in the shared PostgreSQL database (table {@code webhook_deliveries}, filled
 * by the {@code webhook_outbox} trigger on {@code jobs}). Claims take due rows
 * {@code FOR UPDATE SKIP LOCKED}, so processes claiming at once take disjoint deliveries; a
 * record names the claim's owner and due time, the lease token, so a record after the lease
 * passed to another claim changes nothing.
 */
public final class PostgresWebhookOutbox implements WebhookOutbox {

    private final Jdbc jdbc;
    private final Clock clock;
    private final String owner = "w-" + UUID.randomUUID();

    private PostgresWebhookOutbox(Jdbc jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /** The outbox on the job store's pool. */
    public static PostgresWebhookOutbox beside(PostgresJobStore jobs) {
        return new PostgresWebhookOutbox(new Jdbc(jobs.database().pool()), jobs.clock());
    }

    @Override
    public List<Claim> claim(int max, Duration lease) {
        long now = clock.millis();
        long until = now + lease.toMillis();
        return jdbc.transaction(c -> {
            relaxed(c);
            List<Claim> claims = new ArrayList<>();
            try (PreparedStatement ps = Jdbc.prepare(c, "WITH due AS (SELECT job_id FROM webhook_deliveries "
                    + "WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED) "
                    + "UPDATE webhook_deliveries d SET due_at = ?, lease_owner = ? FROM due, jobs j "
                    + "WHERE d.job_id = due.job_id AND j.id = d.job_id "
                    + "RETURNING d.job_id, j.tenant, j.model, j.webhook_url, j.webhook_base, d.tries", now, max, until, owner);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    claims.add(new Claim(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getInt(6), owner, Instant.ofEpochMilli(until)));
                }
            }
            return claims;
        });
    }

    @Override
    public boolean delivered(Claim claim, LogEntry line) {
        return end(claim, "UPDATE webhook_deliveries SET done_at = ?, outcome = 'DELIVERED', lease_owner = NULL", line,
                clock.millis());
    }

    @Override
    public boolean retry(Claim claim, Instant next, LogEntry line) {
        return end(claim, "UPDATE webhook_deliveries SET due_at = ?, tries = tries + 1, lease_owner = NULL", line,
                next.toEpochMilli());
    }

    @Override
    public boolean giveUp(Claim claim, LogEntry line) {
        return end(claim, "UPDATE webhook_deliveries SET done_at = ?, outcome = 'GIVEN_UP', tries = tries + 1, "
                + "lease_owner = NULL", line, clock.millis());
    }

    /** {@code update} sets its one parameter to {@code at}; the claim's lease token guards it. */
    private boolean end(Claim claim, String update, LogEntry line, long at) {
        return jdbc.transaction(c -> {
            relaxed(c);
            int changed = Jdbc.update(c, update + " WHERE job_id = ? AND lease_owner = ? AND due_at = ? AND done_at IS NULL",
                    at, claim.jobId(), claim.owner(), claim.leaseUntil().toEpochMilli());
            if (changed == 0) {
                return false;
            }
            log(c, claim.jobId(), line);
            return true;
        });
    }

    /** Claims and records need not wait for the WAL flush: losing one in a crash only repeats an attempt. */
    private static void relaxed(Connection c) throws SQLException {
        Jdbc.update(c, "SET LOCAL synchronous_commit TO OFF");
    }

    private static void log(Connection c, String jobId, LogEntry line) throws SQLException {
        Jdbc.update(c, "INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, ?, ?)",
                jobId, line.timestamp().toEpochMilli(), line.level().name(), line.message());
    }

    @Override
    public Optional<Instant> nextDue() {
        return jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT min(due_at) FROM webhook_deliveries WHERE done_at IS NULL");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                long due = rs.getLong(1);
                return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(due));
            }
        });
    }
}
