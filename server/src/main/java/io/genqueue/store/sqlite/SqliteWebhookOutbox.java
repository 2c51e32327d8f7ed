package io.genqueue.store.sqlite;

import io.genqueue.queue.LogEntry;
import io.genqueue.webhook.WebhookOutbox;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The webhook outbox in the SQLite database (table {@code webhook_deliveries}, filled by the
 * {@code webhook_outbox} trigger on {@code jobs}). Writes go through the job store's writer, one
 * unit at a time, so a claim and a record never interleave; the record names the claim's owner
 * and lease end, so a record after the lease passed to another claim changes nothing.
 *
 * <p>Claims and records are committed without waiting for the flush to disk: a process that dies
 * keeps them (they are in the operating system's hands), and the machine losing one only means an
 * attempt is made again, which at least once allows. The delivery itself is written, durably, with
 * the job's final state.
 */
public final class SqliteWebhookOutbox implements WebhookOutbox {

    private final SqliteWriter writer;
    private final SqliteReaders readers;
    private final Clock clock;
    private final String owner = "w-" + UUID.randomUUID();

    private SqliteWebhookOutbox(SqliteWriter writer, SqliteReaders readers, Clock clock) {
        this.writer = writer;
        this.readers = readers;
        this.clock = clock;
    }

    /** The outbox on the job store's connections: one writer per database file. */
    public static SqliteWebhookOutbox beside(SqliteJobStore jobs) {
        return new SqliteWebhookOutbox(jobs.writer(), jobs.readers(), jobs.clock());
    }

    @Override
    public List<Claim> claim(int max, Duration lease) {
        long now = clock.millis();
        long until = now + lease.toMillis();
        return writer.call(tx -> {
            PreparedStatement due = tx.prepare("SELECT d.job_id, j.tenant, j.model, j.webhook_url, j.webhook_base, d.tries "
                    + "FROM webhook_deliveries d JOIN jobs j ON j.id = d.job_id "
                    + "WHERE d.done_at IS NULL AND d.due_at <= ? ORDER BY d.due_at LIMIT ?");
            due.setLong(1, now);
            due.setInt(2, max);
            List<Claim> claims = new ArrayList<>();
            try (ResultSet rs = due.executeQuery()) {
                while (rs.next()) {
                    claims.add(new Claim(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            rs.getInt(6), owner, Instant.ofEpochMilli(until)));
                }
            }
            PreparedStatement take = tx.prepare("UPDATE webhook_deliveries SET due_at = ?, lease_owner = ? WHERE job_id = ?");
            for (Claim claim : claims) {
                take.setLong(1, until);
                take.setString(2, owner);
                take.setString(3, claim.jobId());
                take.executeUpdate();
            }
            return claims;
        }, false);
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
        return writer.call(tx -> {
            PreparedStatement ps = tx.prepare(update + " WHERE job_id = ? AND lease_owner = ? AND due_at = ? AND done_at IS NULL");
            ps.setLong(1, at);
            ps.setString(2, claim.jobId());
            ps.setString(3, claim.owner());
            ps.setLong(4, claim.leaseUntil().toEpochMilli());
            if (ps.executeUpdate() == 0) {
                return false;
            }
            SqliteJobStore.appendLog(tx, claim.jobId(), line);
            return true;
        }, false);
    }

    @Override
    public Optional<Instant> nextDue() {
        return readers.read(r -> {
            try (ResultSet rs = r.prepare("SELECT min(due_at) FROM webhook_deliveries WHERE done_at IS NULL").executeQuery()) {
                rs.next();
                long due = rs.getLong(1);
                return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(due));
            }
        });
    }
}
