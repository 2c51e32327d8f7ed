package io.genqueue.store.sqlite;

import com.fasterxml.jackson.core.type.TypeReference;
import io.genqueue.generation.ErrorType;
import io.genqueue.generation.GenerationInput;
import io.genqueue.json.Json;
import io.genqueue.queue.CancelOutcome;
import io.genqueue.queue.Claim;
import io.genqueue.queue.Failure;
import io.genqueue.queue.JobLines;
import io.genqueue.queue.JobListener;
import io.genqueue.queue.JobListeners;
import io.genqueue.queue.JobResult;
import io.genqueue.queue.JobState;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobView;
import io.genqueue.queue.LogEntry;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.Outcome;
import io.genqueue.queue.QueueDepth;
import io.genqueue.queue.StatusCache;
import io.genqueue.queue.Quota;
import io.genqueue.queue.SubmitOutcome;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job store of a one-process deployment: a SQLite file in WAL mode.
 *
 * <p>Every change runs on the {@link SqliteWriter} thread, as a conditional statement on the job's
 * current state: the single writer makes racing transitions (cancel against claim, finish against
 * reap) strictly ordered, and the condition makes the loser see that it lost. The in-memory
 * {@link QueueIndex} is changed by the same units of work, so it follows the database exactly; it is
 * rebuilt from the database at start and after a failed commit.
 *
 * <p>One process owns the file at a time (the server holds a lock on the data directory), so at
 * start every job still marked running is an orphan of a dead process: its lease is expired at
 * once and the next reaper pass requeues it.
 */
public final class SqliteJobStore implements JobStore {

    private static final Logger log = LoggerFactory.getLogger(SqliteJobStore.class);

    static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);
    private static final TypeReference<List<Object>> LOC_TYPE = new TypeReference<>() {
    };

    private static final String VIEW_BY_ID = "SELECT seq, id, tenant, model, lane, state, attempt, sync_mode, created_at, "
            + "started_at, finished_at, inference_ms, error_type, error, error_loc, cancel_requested, expired_at FROM jobs WHERE id = ?";

    private final SqliteDatabase db;
    private final SqliteWriter writer;
    private final SqliteReaders readers;
    private final QueueIndex index = new QueueIndex();
    private final Clock clock;
    private final String owner = "p-" + UUID.randomUUID();
    private final JobListeners listeners = new JobListeners();
    private final StatusCache<Cached> cache = new StatusCache<>(StatusCache.DEFAULT_CAPACITY);

    /** A status in memory: the view and the job's place in the index, for a live queue position. */
    private record Cached(JobView view, int lane, long seq) {
    }

    private SqliteJobStore(SqliteDatabase db, Clock clock, int readerCount) {
        this.db = db;
        this.clock = clock;
        this.readers = new SqliteReaders(db, readerCount);
        // After a failed commit the index may hold changes the database does not: rebuild it.
        this.writer = new SqliteWriter(db, tx -> {
            rebuildIndex(tx);
            cache.clear();
            return null;
        });
        writer.call(tx -> {
            rebuildIndex(tx);
            expireOrphanLeases(tx);
            return null;
        });
    }

    /**
     * @param readerCount read connections; status reads wait for one when all are busy
     */
    public static SqliteJobStore open(SqliteDatabase db, Clock clock, int readerCount) {
        return new SqliteJobStore(db, clock, readerCount);
    }

    SqliteDatabase database() {
        return db;
    }

    SqliteWriter writer() {
        return writer;
    }

    SqliteReaders readers() {
        return readers;
    }

    Clock clock() {
        return clock;
    }

    // ---------------------------------------------------------------- submit and reads

    @Override
    public SubmitOutcome submit(NewJob job) {
        return writer.call(tx -> {
            long now = job.createdAt().toEpochMilli();
            if (job.idempotencyKey() != null) {
                SubmitOutcome earlier = earlierRequest(tx, job, now);
                if (earlier != null) {
                    return earlier;
                }
            }
            if (job.quota() != null) {
                SubmitOutcome refused = overQuota(tx, job);
                if (refused != null) {
                    return refused;
                }
            }
            PreparedStatement insert = tx.prepare("INSERT INTO jobs (id, tenant, model, lane, state, input, sync_mode, "
                    + "run_after, start_deadline, created_at, webhook_url, webhook_base) "
                    + "VALUES (?, ?, ?, ?, 'QUEUED', ?, ?, ?, ?, ?, ?, ?) "
                    + "RETURNING seq");
            insert.setString(1, job.id());
            insert.setString(2, job.tenant());
            insert.setString(3, job.model());
            insert.setInt(4, job.priority().lane());
            insert.setString(5, Json.writeString(job.input()));
            insert.setInt(6, job.input().syncMode() ? 1 : 0);
            insert.setLong(7, now);
            setNullableLong(insert, 8, job.startDeadline() == null ? null : job.startDeadline().toEpochMilli());
            insert.setLong(9, now);
            insert.setString(10, job.webhookUrl());
            insert.setString(11, job.webhookBase());
            long seq;
            try (ResultSet rs = insert.executeQuery()) {
                rs.next();
                seq = rs.getLong(1);
            }
            if (job.idempotencyKey() != null) {
                PreparedStatement key = tx.prepare("INSERT INTO idempotency_keys (tenant, key, request_hash, job_id, created_at) "
                        + "VALUES (?, ?, ?, ?, ?)");
                key.setString(1, job.tenant());
                key.setString(2, job.idempotencyKey());
                key.setString(3, job.requestHash());
                key.setString(4, job.id());
                key.setLong(5, now);
                key.executeUpdate();
            }
            int lane = job.priority().lane();
            index.add(job.model(), lane, seq);
            long position = index.position(job.model(), lane, seq);
            JobView view = new JobView(job.id(), job.tenant(), job.model(), JobState.QUEUED, position, 0,
                    job.input().syncMode(), job.createdAt(), null, null, null, null, false, false);
            // Stamped now: a change of the job in a later unit (a claim in this very batch) refuses the fill.
            long stamp = cache.stamp(job.id());
            tx.afterCommit(() -> {
                cache.fill(job.id(), stamp, new Cached(view, lane, seq));
                emit(JobListener::jobsAvailable);
            });
            return new SubmitOutcome.Created(view);
        });
    }

    /**
     * The refusal when the job is over its quota, else null (and its images are counted). Exact:
     * the one writer runs submits one after another, and what it counts (the tenant's live row,
     * kept by triggers on {@code jobs}; the key's images today) is written in the same units.
     */
    private SubmitOutcome overQuota(SqliteWriter.Tx tx, NewJob job) throws SQLException {
        Quota quota = job.quota();
        if (quota.maxQueued() > 0 && tenantLive(tx, job.tenant()) >= quota.maxQueued()) {
            return new SubmitOutcome.OverQuota(Quota.Kind.MAX_QUEUED, quota.maxQueued());
        }
        if (quota.dailyImages() > 0) {
            int images = job.input().numImages();
            long day = Math.floorDiv(job.createdAt().toEpochMilli(), 86_400_000L);
            PreparedStatement used = tx.prepare("SELECT images FROM key_day_images WHERE key_id = ? AND day = ?");
            used.setString(1, quota.keyId());
            used.setLong(2, day);
            long already;
            try (ResultSet rs = used.executeQuery()) {
                already = rs.next() ? rs.getLong(1) : 0;
            }
            if (already + images > quota.dailyImages()) {
                return new SubmitOutcome.OverQuota(Quota.Kind.DAILY_IMAGES, quota.dailyImages());
            }
            PreparedStatement add = tx.prepare("INSERT INTO key_day_images (key_id, day, images) VALUES (?, ?, ?) "
                    + "ON CONFLICT (key_id, day) DO UPDATE SET images = images + excluded.images");
            add.setString(1, quota.keyId());
            add.setLong(2, day);
            add.setInt(3, images);
            add.executeUpdate();
        }
        return null;
    }

    /** The tenant's queued and running jobs, from its row; the first time, counted (by the partial indexes) into a new row. */
    private static long tenantLive(SqliteWriter.Tx tx, String tenant) throws SQLException {
        PreparedStatement read = tx.prepare("SELECT live FROM tenant_live WHERE tenant = ?");
        read.setString(1, tenant);
        try (ResultSet rs = read.executeQuery()) {
            if (rs.next()) {
                return rs.getLong(1);
            }
        }
        PreparedStatement count = tx.prepare("INSERT INTO tenant_live (tenant, live) SELECT ?, "
                + "(SELECT count(*) FROM jobs WHERE state = 'QUEUED' AND tenant = ?) "
                + "+ (SELECT count(*) FROM jobs WHERE state = 'RUNNING' AND tenant = ?) RETURNING live");
        count.setString(1, tenant);
        count.setString(2, tenant);
        count.setString(3, tenant);
        try (ResultSet rs = count.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public long queuedJobs() {
        return index.size();
    }

    /** The outcome when the idempotency key names a live earlier request, else null. */
    private SubmitOutcome earlierRequest(SqliteWriter.Tx tx, NewJob job, long now) throws SQLException {
        PreparedStatement find = tx.prepare("SELECT request_hash, job_id, created_at FROM idempotency_keys WHERE tenant = ? AND key = ?");
        find.setString(1, job.tenant());
        find.setString(2, job.idempotencyKey());
        String hash;
        String jobId;
        long createdAt;
        try (ResultSet rs = find.executeQuery()) {
            if (!rs.next()) {
                return null;
            }
            hash = rs.getString(1);
            jobId = rs.getString(2);
            createdAt = rs.getLong(3);
        }
        if (createdAt > now - IDEMPOTENCY_WINDOW.toMillis()) {
            if (!hash.equals(job.requestHash())) {
                return new SubmitOutcome.Conflict(jobId);
            }
            PreparedStatement view = tx.prepare(VIEW_BY_ID);
            view.setString(1, jobId);
            try (ResultSet rs = view.executeQuery()) {
                if (rs.next()) {
                    return new SubmitOutcome.Existing(toView(rs));
                }
            }
        }
        PreparedStatement forget = tx.prepare("DELETE FROM idempotency_keys WHERE tenant = ? AND key = ?");
        forget.setString(1, job.tenant());
        forget.setString(2, job.idempotencyKey());
        forget.executeUpdate();
        return null;
    }

    @Override
    public Optional<JobView> find(String tenant, String id) {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare(VIEW_BY_ID);
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !rs.getString("tenant").equals(tenant)) {
                    return Optional.empty();
                }
                return Optional.of(toView(rs));
            }
        });
    }

    /**
     * As {@link #find}, from memory for the jobs in the status cache (submitted, changed or read
     * lately): every change of a job is bracketed by {@code changing} and {@code changed} (see
     * {@link StatusCache}), and a queued job's position is computed from the index at each read.
     */
    @Override
    public Optional<JobView> status(String tenant, String id) {
        Cached cached = cache.get(id);
        if (cached == null) {
            long stamp = cache.stamp(id);
            cached = readers.read(r -> {
                PreparedStatement ps = r.prepare(VIEW_BY_ID);
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new Cached(toView(rs), rs.getInt("lane"), rs.getLong("seq")) : null;
                }
            });
            if (cached == null) {
                return Optional.empty();
            }
            cache.fill(id, stamp, cached);
        }
        if (!cached.view().tenant().equals(tenant)) {
            return Optional.empty();
        }
        JobView view = cached.view();
        if (view.state() != JobState.QUEUED) {
            return Optional.of(view);
        }
        return Optional.of(new JobView(view.id(), view.tenant(), view.model(), view.state(),
                index.position(view.model(), cached.lane(), cached.seq()), view.attempt(), view.syncMode(), view.createdAt(),
                view.startedAt(), view.finishedAt(), view.inferenceMillis(), view.failure(), view.cancelRequested(), view.expired()));
    }

    /** A change of the job's visible state is about to commit in this unit: the status cache must not keep the old one. */
    private void changing(SqliteWriter.Tx tx, String id) {
        cache.changing(id);
        tx.whenDone(() -> cache.changed(id));
    }

    /** Entries in the status cache (tests). */
    int cachedStatuses() {
        return cache.size();
    }

    private JobView toView(ResultSet rs) throws SQLException {
        JobState state = JobState.valueOf(rs.getString("state"));
        String model = rs.getString("model");
        int lane = rs.getInt("lane");
        long position = state == JobState.QUEUED ? index.position(model, lane, rs.getLong("seq")) : -1;
        String errorType = rs.getString("error_type");
        Failure failure = null;
        if (errorType != null) {
            String loc = rs.getString("error_loc");
            failure = new Failure(ErrorType.fromWire(errorType), rs.getString("error"),
                    loc == null ? List.of() : Json.read(loc, LOC_TYPE));
        }
        return new JobView(rs.getString("id"), rs.getString("tenant"), model, state, position, rs.getInt("attempt"),
                rs.getInt("sync_mode") == 1, millis(rs, "created_at"), millis(rs, "started_at"), millis(rs, "finished_at"),
                nullableLong(rs, "inference_ms"), failure, rs.getInt("cancel_requested") == 1, rs.getObject("expired_at") != null);
    }

    @Override
    public Optional<JobResult> result(String id) {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare("SELECT result FROM jobs WHERE id = ? AND state = 'SUCCEEDED' AND expired_at IS NULL");
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return Optional.empty();
                }
                return Optional.of(Json.read(rs.getString(1), JobResult.class));
            }
        });
    }

    @Override
    public List<LogEntry> logs(String id) {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare("SELECT at, level, message FROM job_logs WHERE job_id = ? ORDER BY seq");
            ps.setString(1, id);
            List<LogEntry> entries = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.add(new LogEntry(Instant.ofEpochMilli(rs.getLong(1)), LogEntry.Level.valueOf(rs.getString(2)), rs.getString(3)));
                }
            }
            return entries;
        });
    }

    // ---------------------------------------------------------------- cancel

    @Override
    public CancelOutcome cancel(String tenant, String id) {
        return writer.call(tx -> {
            PreparedStatement find = tx.prepare("SELECT seq, tenant, model, lane, state, cancel_requested FROM jobs WHERE id = ?");
            find.setString(1, id);
            long seq;
            String model;
            int lane;
            JobState state;
            boolean requested;
            try (ResultSet rs = find.executeQuery()) {
                if (!rs.next() || !rs.getString("tenant").equals(tenant)) {
                    return CancelOutcome.NOT_FOUND;
                }
                seq = rs.getLong("seq");
                model = rs.getString("model");
                lane = rs.getInt("lane");
                state = JobState.valueOf(rs.getString("state"));
                requested = rs.getInt("cancel_requested") == 1;
            }
            long now = now();
            switch (state) {
                case QUEUED -> {
                    changing(tx, id);
                    end(tx, seq, JobState.CANCELLED, Failure.cancelled(), null, now);
                    index.remove(model, lane, seq);
                    appendLog(tx, id, LogEntry.info(Instant.ofEpochMilli(now), "Cancelled by the client while queued."));
                    tx.afterCommit(() -> emit(l -> l.jobChanged(id)));
                    return CancelOutcome.CANCELLED;
                }
                case RUNNING -> {
                    if (!requested) {
                        changing(tx, id);
                        PreparedStatement flag = tx.prepare("UPDATE jobs SET cancel_requested = 1 WHERE seq = ?");
                        flag.setLong(1, seq);
                        flag.executeUpdate();
                        appendLog(tx, id, LogEntry.info(Instant.ofEpochMilli(now), "Cancellation requested by the client."));
                    }
                    tx.afterCommit(() -> emit(l -> l.cancelRequested(id)));
                    return CancelOutcome.REQUESTED;
                }
                default -> {
                    return CancelOutcome.ALREADY_COMPLETED;
                }
            }
        });
    }

    /** Ends the job at {@code seq} without a result (the caller checked that it may). */
    private void end(SqliteWriter.Tx tx, long seq, JobState state, Failure failure, Long inferenceMillis, long now) throws SQLException {
        end(tx, seq, state, failure, null, null, inferenceMillis, now);
    }

    /**
     * Moves the job at {@code seq} to a terminal state, with its result and the provider that made
     * it if it succeeded. The {@code usage_ended} trigger counts it in the same statement.
     */
    private void end(SqliteWriter.Tx tx, long seq, JobState state, Failure failure, JobResult result, String provider,
            Long inferenceMillis, long now) throws SQLException {
        PreparedStatement ps = tx.prepare("UPDATE jobs SET state = ?, finished_at = ?, inference_ms = ?, error_type = ?, error = ?, "
                + "error_loc = ?, result = ?, provider = ?, lease_owner = NULL, lease_until = NULL WHERE seq = ?");
        ps.setString(1, state.name());
        ps.setLong(2, now);
        setNullableLong(ps, 3, inferenceMillis);
        ps.setString(4, failure == null ? null : failure.type().wire());
        ps.setString(5, failure == null ? null : failure.message());
        ps.setString(6, failure == null || failure.loc().isEmpty() ? null : Json.writeString(failure.loc()));
        ps.setString(7, result == null ? null : Json.writeString(result));
        ps.setString(8, provider);
        ps.setLong(9, seq);
        ps.executeUpdate();
    }

    // ---------------------------------------------------------------- worker side

    @Override
    public List<Claim> claim(int max, Duration lease, String model) {
        if (max <= 0) {
            return List.of();
        }
        return writer.call(tx -> {
            long now = now();
            // A job past its start deadline is skipped, not failed here: this unit is not flushed,
            // and a failure is an answer clients see. The durable sweep fails it.
            PreparedStatement ps = tx.prepare("UPDATE jobs SET state = 'RUNNING', attempt = attempt + 1, lease_owner = ?, "
                    + "lease_until = ?, started_at = COALESCE(started_at, ?), run_started_at = ? "
                    + "WHERE seq IN (SELECT seq FROM jobs WHERE state = 'QUEUED' AND run_after <= ? "
                    + "AND (start_deadline IS NULL OR started_at IS NOT NULL OR start_deadline > ?) "
                    + "AND (? IS NULL OR model = ?) ORDER BY lane, seq LIMIT ?) "
                    + "RETURNING seq, id, tenant, model, lane, attempt, input, upstream, run_after");
            ps.setString(1, owner);
            ps.setLong(2, now + lease.toMillis());
            ps.setLong(3, now);
            ps.setLong(4, now);
            ps.setLong(5, now);
            ps.setLong(6, now);
            ps.setString(7, model);
            ps.setString(8, model);
            ps.setInt(9, max);
            record Row(long seq, int lane, Claim claim) {
            }
            List<Row> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    GenerationInput input = Json.read(rs.getString("input"), GenerationInput.class);
                    rows.add(new Row(rs.getLong("seq"), rs.getInt("lane"), new Claim(rs.getString("id"), rs.getString("tenant"),
                            rs.getString("model"), rs.getInt("attempt"), input, Instant.ofEpochMilli(now), rs.getString("upstream"),
                            Instant.ofEpochMilli(rs.getLong("run_after")))));
                }
            }
            rows.sort(Comparator.comparingInt(Row::lane).thenComparingLong(Row::seq));
            List<Claim> claims = new ArrayList<>(rows.size());
            for (Row row : rows) {
                changing(tx, row.claim().jobId());
                index.remove(row.claim().model(), row.lane(), row.seq());
                claims.add(row.claim());
                tx.afterCommit(() -> emit(l -> l.jobChanged(row.claim().jobId())));
            }
            return claims;
        }, false); // a claim lost to a power cut only means the job runs again: do not wait for the disk
    }

    @Override
    public void log(Claim claim, LogEntry entry) {
        writer.submit(tx -> {
            appendLog(tx, claim.jobId(), entry);
            return null;
        }, false).exceptionally(e -> {
            log.warn("could not store a log line of {}: {}", claim.jobId(), e.toString());
            return null;
        });
    }

    /** Appends a line to a job's log inside the caller's writer unit (the outbox's records use it too). */
    static void appendLog(SqliteWriter.Tx tx, String jobId, LogEntry entry) throws SQLException {
        PreparedStatement ps = tx.prepare("INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, ?, ?)");
        ps.setString(1, jobId);
        ps.setLong(2, entry.timestamp().toEpochMilli());
        ps.setString(3, entry.level().name());
        ps.setString(4, entry.message());
        ps.executeUpdate();
    }

    @Override
    public Set<String> renew(Collection<Claim> claims, Duration lease) {
        if (claims.isEmpty()) {
            return Set.of();
        }
        return writer.call(tx -> {
            long until = now() + lease.toMillis();
            Set<String> lost = new HashSet<>();
            PreparedStatement ps = tx.prepare("UPDATE jobs SET lease_until = ? "
                    + "WHERE id = ? AND state = 'RUNNING' AND attempt = ? AND lease_owner = ?");
            for (Claim claim : claims) {
                ps.setLong(1, until);
                ps.setString(2, claim.jobId());
                ps.setInt(3, claim.attempt());
                ps.setString(4, owner);
                if (ps.executeUpdate() == 0) {
                    lost.add(claim.jobId());
                }
            }
            return lost;
        }, false);
    }

    /** The job's seq, model, lane and cancel flag if {@code claim} still holds its lease, else null. */
    private HeldJob held(SqliteWriter.Tx tx, Claim claim) throws SQLException {
        PreparedStatement ps = tx.prepare("SELECT seq, model, lane, cancel_requested FROM jobs "
                + "WHERE id = ? AND state = 'RUNNING' AND attempt = ? AND lease_owner = ?");
        ps.setString(1, claim.jobId());
        ps.setInt(2, claim.attempt());
        ps.setString(3, owner);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? new HeldJob(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getInt(4) == 1) : null;
        }
    }

    private record HeldJob(long seq, String model, int lane, boolean cancelRequested) {
    }

    @Override
    public boolean saveUpstream(Claim claim, String reference) {
        return writer.call(tx -> {
            HeldJob job = held(tx, claim);
            if (job == null) {
                return false;
            }
            PreparedStatement ps = tx.prepare("UPDATE jobs SET upstream = ? WHERE seq = ?");
            ps.setString(1, reference);
            ps.setLong(2, job.seq());
            ps.executeUpdate();
            return true;
        });
    }

    @Override
    public boolean finish(Claim claim, Outcome outcome, LogEntry line) {
        return writer.call(tx -> {
            HeldJob job = held(tx, claim);
            if (job == null) {
                return false;
            }
            long now = now();
            changing(tx, claim.jobId());
            appendLog(tx, claim.jobId(), line);
            switch (outcome) {
                case Outcome.Succeeded s -> end(tx, job.seq(), JobState.SUCCEEDED, null, s.result(), s.provider(), s.inferenceMillis(), now);
                case Outcome.Failed f -> end(tx, job.seq(), JobState.FAILED, f.failure(), f.inferenceMillis(), now);
                case Outcome.Cancelled c -> end(tx, job.seq(), JobState.CANCELLED, Failure.cancelled(), c.inferenceMillis(), now);
            }
            tx.afterCommit(() -> emit(l -> l.jobChanged(claim.jobId())));
            return true;
        });
    }

    @Override
    public boolean retry(Claim claim, Instant runAfter, LogEntry why) {
        return requeue(claim, runAfter.toEpochMilli(), false, why);
    }

    @Override
    public boolean release(Claim claim, Instant runAfter, LogEntry why) {
        return requeue(claim, runAfter.toEpochMilli(), true, why);
    }

    /** RUNNING to QUEUED, or to CANCELLED when the client asked meanwhile. */
    private boolean requeue(Claim claim, long runAfter, boolean uncountAttempt, LogEntry why) {
        return writer.call(tx -> {
            HeldJob job = held(tx, claim);
            if (job == null) {
                return false;
            }
            long now = now();
            changing(tx, claim.jobId());
            appendLog(tx, claim.jobId(), why);
            if (job.cancelRequested()) {
                end(tx, job.seq(), JobState.CANCELLED, Failure.cancelled(), null, now);
            } else {
                // A retry starts a fresh upstream request; a release (shutdown, storage failing) resumes the old one.
                backInQueue(tx, job.seq(), job.model(), job.lane(), runAfter, uncountAttempt, uncountAttempt);
                tx.afterCommit(() -> emit(JobListener::jobsAvailable));
            }
            tx.afterCommit(() -> emit(l -> l.jobChanged(claim.jobId())));
            return true;
        });
    }

    /**
     * RUNNING back to QUEUED at its old place, due at {@code runAfter}; the attempt is uncounted and
     * the upstream reference kept on request.
     */
    private void backInQueue(SqliteWriter.Tx tx, long seq, String model, int lane, long runAfter, boolean uncountAttempt,
            boolean keepUpstream) throws SQLException {
        PreparedStatement ps = tx.prepare("UPDATE jobs SET state = 'QUEUED', run_after = ?, attempt = attempt - ?, "
                + "lease_owner = NULL, lease_until = NULL, upstream = CASE WHEN ? THEN upstream END WHERE seq = ?");
        ps.setLong(1, runAfter);
        ps.setInt(2, uncountAttempt ? 1 : 0);
        ps.setBoolean(3, keepUpstream);
        ps.setLong(4, seq);
        ps.executeUpdate();
        index.add(model, lane, seq);
    }

    // ---------------------------------------------------------------- maintenance

    @Override
    public List<String> reapExpiredLeases(int maxAttempts, Instant expiredBefore) {
        return writer.call(tx -> {
            long now = now();
            PreparedStatement find = tx.prepare("SELECT seq, id, model, lane, attempt, cancel_requested, tenant FROM jobs "
                    + "WHERE state = 'RUNNING' AND lease_until < ?");
            find.setLong(1, expiredBefore.toEpochMilli());
            record Expired(long seq, String id, String model, int lane, int attempt, boolean cancelRequested, String tenant) {
            }
            List<Expired> expired = new ArrayList<>();
            try (ResultSet rs = find.executeQuery()) {
                while (rs.next()) {
                    expired.add(new Expired(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5), rs.getInt(6) == 1,
                            rs.getString(7)));
                }
            }
            List<String> ids = new ArrayList<>();
            Instant at = Instant.ofEpochMilli(now);
            for (Expired job : expired) {
                JobState after = job.cancelRequested() ? JobState.CANCELLED : job.attempt() >= maxAttempts ? JobState.FAILED
                        : JobState.QUEUED;
                changing(tx, job.id());
                if (job.cancelRequested()) {
                    end(tx, job.seq(), JobState.CANCELLED, Failure.cancelled(), null, now);
                    appendLog(tx, job.id(), LogEntry.warn(at, "Its worker stopped responding; the job was cancelled as the client asked."));
                } else if (job.attempt() >= maxAttempts) {
                    end(tx, job.seq(), JobState.FAILED, Failure.of(ErrorType.INTERNAL_ERROR,
                            "The job's worker stopped responding on each of its " + job.attempt() + " attempts."), null, now);
                    appendLog(tx, job.id(), LogEntry.error(at, "Its worker stopped responding on attempt " + job.attempt()
                            + " of " + maxAttempts + "; the job failed."));
                } else {
                    backInQueue(tx, job.seq(), job.model(), job.lane(), now, false, true); // the next run resumes its upstream request
                    appendLog(tx, job.id(), LogEntry.warn(at, "Its worker stopped responding on attempt " + job.attempt()
                            + "; back in the queue."));
                }
                ids.add(job.id());
                tx.afterCommit(() -> {
                    JobLines.reaped(job.id(), job.tenant(), job.model(), job.attempt(), after);
                    emit(l -> l.jobChanged(job.id()));
                });
            }
            if (!expired.isEmpty()) {
                tx.afterCommit(() -> emit(JobListener::jobsAvailable));
            }
            return ids;
        });
    }

    @Override
    public int failMissedStartDeadlines() {
        return writer.call(tx -> {
            long now = now();
            PreparedStatement ps = tx.prepare("UPDATE jobs SET state = 'FAILED', finished_at = ?, error_type = ?, error = ? "
                    + "WHERE state = 'QUEUED' AND start_deadline IS NOT NULL AND start_deadline <= ? AND started_at IS NULL "
                    + "RETURNING seq, id, model, lane, tenant");
            ps.setLong(1, now);
            ps.setString(2, ErrorType.REQUEST_TIMEOUT.wire());
            ps.setString(3, "The request did not start within its start timeout (X-Fal-Request-Start-Timeout).");
            ps.setLong(4, now);
            int count = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String id = rs.getString(2);
                    String model = rs.getString(3);
                    String tenant = rs.getString(5);
                    changing(tx, id);
                    index.remove(model, rs.getInt(4), rs.getLong(1));
                    tx.afterCommit(() -> {
                        JobLines.timedOut(id, tenant, model);
                        emit(l -> l.jobChanged(id));
                    });
                    count++;
                }
            }
            return count;
        });
    }

    @Override
    public List<String> expireResults(Instant finishedBefore, int limit) {
        return writer.call(tx -> {
            long now = now();
            PreparedStatement ps = tx.prepare("UPDATE jobs SET expired_at = ?, result = NULL, input = NULL WHERE seq IN "
                    + "(SELECT seq FROM jobs WHERE finished_at IS NOT NULL AND expired_at IS NULL AND finished_at < ? "
                    + "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.job_id = jobs.id AND d.done_at IS NULL) " // kept for its webhook
                    + "LIMIT ?) RETURNING id");
            ps.setLong(1, now);
            ps.setLong(2, finishedBefore.toEpochMilli());
            ps.setInt(3, limit);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            ids.forEach(id -> changing(tx, id));
            PreparedStatement logs = tx.prepare("DELETE FROM job_logs WHERE job_id = ?");
            PreparedStatement deliveries = tx.prepare("DELETE FROM webhook_deliveries WHERE job_id = ?");
            for (String id : ids) {
                logs.setString(1, id);
                logs.executeUpdate();
                deliveries.setString(1, id);
                deliveries.executeUpdate();
            }
            PreparedStatement keys = tx.prepare("DELETE FROM idempotency_keys WHERE created_at < ?");
            keys.setLong(1, now - IDEMPOTENCY_WINDOW.toMillis());
            keys.executeUpdate();
            return ids;
        });
    }

    @Override
    public List<String> expiredNotPurged(int limit) {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare("SELECT id FROM jobs WHERE expired_at IS NOT NULL AND purged = 0 LIMIT ?");
            ps.setInt(1, limit);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        });
    }

    @Override
    public void markPurged(Collection<String> jobIds) {
        writer.call(tx -> {
            PreparedStatement ps = tx.prepare("UPDATE jobs SET purged = 1 WHERE id = ?");
            for (String id : jobIds) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public List<QueueDepth> queueDepth() {
        return readers.read(r -> {
            List<QueueDepth> out = new ArrayList<>();
            try (ResultSet rs = r.prepare(QUEUE_DEPTH).executeQuery()) {
                while (rs.next()) {
                    long oldest = rs.getLong(4);
                    Instant oldestQueued = rs.wasNull() ? null : Instant.ofEpochMilli(oldest);
                    out.add(new QueueDepth(rs.getString(1), rs.getLong(2), rs.getLong(3), oldestQueued));
                }
            }
            return out;
        });
    }

    /** Unfinished jobs per model: each half reads only the rows of its state (the partial indexes). */
    private static final String QUEUE_DEPTH = "SELECT model, SUM(q), SUM(r), MIN(oldest) FROM ("
            + "SELECT model, COUNT(*) AS q, 0 AS r, MIN(created_at) AS oldest FROM jobs WHERE state = 'QUEUED' GROUP BY model "
            + "UNION ALL SELECT model, 0, COUNT(*), NULL FROM jobs WHERE state = 'RUNNING' GROUP BY model) AS unfinished "
            + "GROUP BY model ORDER BY model";

    @Override
    public Optional<Instant> nextDelayedRun() {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare("SELECT MIN(run_after) FROM jobs WHERE state = 'QUEUED' AND run_after > ?");
            ps.setLong(1, now());
            try (ResultSet rs = ps.executeQuery()) {
                long min = rs.next() ? rs.getLong(1) : 0;
                return rs.wasNull() || min == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(min));
            }
        });
    }

    @Override
    public void addListener(JobListener listener) {
        listeners.add(listener);
    }

    @Override
    public String leaseOwner() {
        return owner;
    }

    @Override
    public boolean ping() {
        try {
            return writer.healthy() && readers.read(r -> {
                try (ResultSet rs = r.prepare("SELECT 1").executeQuery()) {
                    return rs.next();
                }
            });
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        writer.close();
        readers.close();
    }

    // ---------------------------------------------------------------- internals

    private void emit(Consumer<JobListener> event) {
        listeners.emit(event);
    }

    private void rebuildIndex(SqliteWriter.Tx tx) throws SQLException {
        index.clear();
        try (ResultSet rs = tx.prepare("SELECT model, lane, seq FROM jobs WHERE state = 'QUEUED'").executeQuery()) {
            while (rs.next()) {
                index.add(rs.getString(1), rs.getInt(2), rs.getLong(3));
            }
        }
    }

    /** At start: jobs running under another (dead) owner get an expired lease, for the reaper. */
    private void expireOrphanLeases(SqliteWriter.Tx tx) throws SQLException {
        PreparedStatement ps = tx.prepare("UPDATE jobs SET lease_until = 0 WHERE state = 'RUNNING' AND lease_owner <> ?");
        ps.setString(1, owner);
        int orphans = ps.executeUpdate();
        if (orphans > 0) {
            log.info("{} job(s) were running when the previous process stopped; they go back in the queue", orphans);
        }
    }

    private long now() {
        return clock.millis();
    }

    private static Instant millis(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(value);
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    private static void setNullableLong(PreparedStatement ps, int index, Long value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setLong(index, value);
        }
    }
}
