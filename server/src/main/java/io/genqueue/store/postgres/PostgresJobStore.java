package io.genqueue.store.postgres;

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
import io.genqueue.queue.StoreException;
import io.genqueue.queue.SubmitOutcome;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job store of a deployment of many processes: one PostgreSQL database they all share.
 *
 * <p>Exactly-once transitions come from the database, not from a single writer: every transition
 * is one conditional {@code UPDATE} on the job's state (and, for a worker's transitions, on its
 * lease token {@code (id, attempt, lease_owner)}), so of two racing transitions, in this process
 * or another, the second finds the row changed and reports that it lost. A claim is one statement
 * ({@code FOR UPDATE SKIP LOCKED}): processes claiming at once take disjoint jobs. The lease owner
 * is this store instance's random id; a process that dies stops renewing, and any process's reaper
 * requeues its jobs when their leases run out.
 *
 * <p>Submits go through a {@link SubmitWriter} (group commit; at most one "work available"
 * notification per process every {@code ChangeFeed.AVAILABLE_GAP}); log
 * lines through a {@link LogWriter}; other processes hear of commits through the
 * {@link ChangeFeed} (NOTIFY, LISTEN, polling). {@code queue_position} is computed by the
 * database function {@code queue_position()} without counting the jobs ahead: see
 * {@code docs/postgres-queue-position.md} for the method and its error bounds.
 *
 * <p>Times are epoch milliseconds from the clock the store was built with, as in SQLite.
 */
public final class PostgresJobStore implements JobStore {

    private static final Logger log = LoggerFactory.getLogger(PostgresJobStore.class);

    static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);
    private static final int REAP_BATCH = 1_000;
    private static final TypeReference<List<Object>> LOC_TYPE = new TypeReference<>() {
    };

    private static final String VIEW_COLUMNS = "id, tenant, model, lane, state, attempt, sync_mode, created_at, started_at, "
            + "finished_at, inference_ms, error_type, error, error_loc, cancel_requested, expired_at, "
            + "CASE WHEN state = 'QUEUED' THEN queue_position(model, lane, ticket) ELSE -1 END AS position";
    private static final String END = "UPDATE jobs SET state = ?, finished_at = ?, inference_ms = ?, error_type = ?, error = ?, "
            + "error_loc = ?, result = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?";
    private static final String HELD = "id = ? AND state = 'RUNNING' AND attempt = ? AND lease_owner = ?";

    private final PostgresDatabase db;
    private final Jdbc jdbc;
    private final Clock clock;
    private final String owner = "p-" + UUID.randomUUID();
    private final JobListeners listeners = new JobListeners();
    private final TicketSequences tickets;
    private final TenantCounters counters;
    private final SubmitWriter submits;
    private final LogWriter logs;
    private final ChangeFeed feed;
    private final Duration pollInterval;
    private volatile Runnable keysRevoked = () -> { };
    /**
     * Finished jobs only: a final state never changes (only the expired flag, which a status does
     * not show), so an entry of any process is exact without hearing of other processes' commits.
     */
    private final StatusCache<JobView> finished = new StatusCache<>(StatusCache.DEFAULT_CAPACITY);

    private PostgresJobStore(PostgresDatabase db, PostgresConfig config, Clock clock, Duration availableGap) {
        this.db = db;
        this.jdbc = new Jdbc(db.pool());
        this.clock = clock;
        this.logs = new LogWriter(jdbc);
        this.pollInterval = config.pollInterval();
        this.feed = new ChangeFeed(db, owner, config, availableGap, new ChangeFeed.Handler() {
            @Override
            public void available() {
                emit(JobListener::jobsAvailable);
            }

            @Override
            public void changed(String jobId) {
                emit(l -> l.jobChanged(jobId));
            }

            @Override
            public void cancelRequested(String jobId) {
                emit(l -> l.cancelRequested(jobId));
                emit(l -> l.jobChanged(jobId));
            }

            @Override
            public void keysRevoked() {
                keysRevoked.run();
            }
        });
        this.tickets = new TicketSequences(jdbc);
        this.counters = new TenantCounters(jdbc);
        this.submits = new SubmitWriter(db.pool(), new SubmitWriter.Group() {
            @Override
            public List<SubmitOutcome> store(Connection c, List<NewJob> jobs) throws SQLException {
                return storeGroup(c, jobs);
            }

            @Override
            public boolean oneStatement(List<NewJob> jobs) { // no key to take, no quota to check, and one lane's insert
                Lane first = Lane.of(jobs.get(0));
                return jobs.stream().allMatch(j -> j.idempotencyKey() == null && j.quota() == null && Lane.of(j).equals(first));
            }
        }, () -> {
            emit(JobListener::jobsAvailable);
            feed.publishAvailable();
        });
    }

    /**
     * Connects (a pool of {@code config.poolSize()} connections, plus one LISTEN connection unless
     * {@code pollOnly}), brings the schema up to date and starts listening. Close it to release
     * them all.
     *
     * @throws StoreException when the database cannot be reached or migrated
     */
    public static PostgresJobStore open(PostgresConfig config, Clock clock) {
        return open(config, clock, ChangeFeed.AVAILABLE_GAP);
    }

    /** As {@link #open(PostgresConfig, Clock)}, with another least gap between two "available" notifications (tests). */
    static PostgresJobStore open(PostgresConfig config, Clock clock, Duration availableGap) {
        PostgresDatabase db = PostgresDatabase.open(config, "genqueue-jobs");
        try {
            return new PostgresJobStore(db, config, clock, availableGap);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    PostgresDatabase database() {
        return db;
    }

    Clock clock() {
        return clock;
    }

    /** How often this store polls: the longest a cache of other processes' changes may be trusted. */
    Duration pollInterval() {
        return pollInterval;
    }

    /** Runs {@code action} whenever any process (this one included) revokes an API key. */
    void onKeysRevoked(Runnable action) {
        keysRevoked = action;
    }

    /** This store instance's lease owner id. */
    String owner() {
        return owner;
    }

    @Override
    public String leaseOwner() {
        return owner;
    }

    /** Submit groups committed so far (for tests of the grouping). */
    long submitCommits() {
        return submits.commits();
    }

    /** Whether the LISTEN session is up. */
    boolean listening() {
        return feed.listening();
    }

    // ---------------------------------------------------------------- submit and reads

    @Override
    public SubmitOutcome submit(NewJob job) {
        // A new lane is made here, on a connection of its own, before the job joins a group: the
        // group's insert then finds the lane's sequence in memory, without a second connection.
        tickets.sequenceOf(Lane.of(job));
        if (job.quota() != null && job.quota().maxQueued() > 0) {
            counters.ensure(job.tenant()); // likewise the tenant's live count, once
        }
        return submits.submit(job);
    }

    @Override
    public long queuedJobs() {
        return jdbc.autocommit(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM jobs WHERE state = 'QUEUED'");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /**
     * Stores a group of submits in the caller's transaction; no two share an idempotency key.
     * Idempotency keys are taken in sorted order, so groups of different processes never deadlock.
     */
    private List<SubmitOutcome> storeGroup(Connection c, List<NewJob> jobs) throws SQLException {
        SubmitOutcome[] outcomes = new SubmitOutcome[jobs.size()];
        Integer[] keyed = java.util.stream.IntStream.range(0, jobs.size()).filter(i -> jobs.get(i).idempotencyKey() != null)
                .boxed().toArray(Integer[]::new);
        Arrays.sort(keyed, Comparator.comparing((Integer i) -> jobs.get(i).tenant()).thenComparing(i -> jobs.get(i).idempotencyKey()));
        for (int i : keyed) {
            outcomes[i] = earlierRequest(c, jobs.get(i));
        }
        checkQuotas(c, jobs, outcomes);
        Map<Lane, List<Integer>> byLane = new HashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            if (outcomes[i] == null) {
                byLane.computeIfAbsent(Lane.of(jobs.get(i)), l -> new ArrayList<>()).add(i);
            }
        }
        for (Map.Entry<Lane, List<Integer>> lane : byLane.entrySet()) {
            List<NewJob> members = lane.getValue().stream().map(jobs::get).toList();
            long position = insert(c, lane.getKey(), members);
            for (int i : lane.getValue()) { // tickets, and so places, in group order
                NewJob job = jobs.get(i);
                outcomes[i] = new SubmitOutcome.Created(new JobView(job.id(), job.tenant(), job.model(), JobState.QUEUED,
                        position++, 0, job.input().syncMode(), job.createdAt(), null, null, null, null, false, false));
            }
        }
        return Arrays.asList(outcomes);
    }

    /**
     * Refuses, in {@code outcomes}, the jobs of the group (not yet decided) that are over their
     * quota, and counts the images of the others; nothing of a refused job stays written (its
     * idempotency key is given back).
     *
     * <p>Exact across processes: a group checking a {@code max_queued} first locks the live rows of
     * every tenant it holds, in tenant order (the order the insert trigger updates them in, so no
     * two groups deadlock), and keeps them to its commit, so the next group of those tenants, from
     * any process, counts after this one's jobs. The daily images are one conditional upsert per
     * job, whose row lock serialises them likewise; jobs are taken in (tenant, key) order so that
     * every group takes those locks in one order too.
     */
    private void checkQuotas(Connection c, List<NewJob> jobs, SubmitOutcome[] outcomes) throws SQLException {
        List<Integer> open = java.util.stream.IntStream.range(0, jobs.size()).filter(i -> outcomes[i] == null).boxed().toList();
        if (open.stream().noneMatch(i -> jobs.get(i).quota() != null)) {
            return;
        }
        Map<String, Long> live = new HashMap<>();
        if (open.stream().anyMatch(i -> jobs.get(i).quota() != null && jobs.get(i).quota().maxQueued() > 0)) {
            String[] tenants = open.stream().map(i -> jobs.get(i).tenant()).distinct().sorted().toArray(String[]::new);
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT tenant, live FROM tenant_live WHERE tenant = ANY(?) ORDER BY tenant "
                    + "FOR UPDATE", (Object) tenants); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    live.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        List<Integer> order = new ArrayList<>(open);
        order.sort(Comparator.comparing((Integer i) -> jobs.get(i).tenant())
                .thenComparing(i -> jobs.get(i).quota() == null ? "" : jobs.get(i).quota().keyId()));
        Map<String, Long> added = new HashMap<>();
        for (int i : order) {
            NewJob job = jobs.get(i);
            Quota quota = job.quota();
            SubmitOutcome refused = null;
            if (quota != null && quota.maxQueued() > 0) {
                // the row was made before the job joined the group (TenantCounters); should it be gone, count
                Long base = live.get(job.tenant());
                if (base == null) {
                    base = countLive(c, job.tenant());
                    live.put(job.tenant(), base);
                }
                long count = base + added.getOrDefault(job.tenant(), 0L);
                if (count >= quota.maxQueued()) {
                    refused = new SubmitOutcome.OverQuota(Quota.Kind.MAX_QUEUED, quota.maxQueued());
                }
            }
            if (refused == null && quota != null && quota.dailyImages() > 0 && !takeImages(c, job, quota)) {
                refused = new SubmitOutcome.OverQuota(Quota.Kind.DAILY_IMAGES, quota.dailyImages());
            }
            if (refused == null) {
                added.merge(job.tenant(), 1L, Long::sum);
                continue;
            }
            outcomes[i] = refused;
            if (job.idempotencyKey() != null) {
                Jdbc.update(c, "DELETE FROM idempotency_keys WHERE tenant = ? AND key = ? AND job_id = ?", job.tenant(),
                        job.idempotencyKey(), job.id());
            }
        }
    }

    private static long countLive(Connection c, String tenant) throws SQLException {
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT (SELECT count(*) FROM jobs WHERE state = 'QUEUED' AND tenant = ?) "
                + "+ (SELECT count(*) FROM jobs WHERE state = 'RUNNING' AND tenant = ?)", tenant, tenant);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Adds the job's images to its key's count of the day unless that would pass the limit; false when it would. */
    private static boolean takeImages(Connection c, NewJob job, Quota quota) throws SQLException {
        int images = job.input().numImages();
        if (images > quota.dailyImages()) {
            return false;
        }
        long day = Math.floorDiv(job.createdAt().toEpochMilli(), 86_400_000L);
        try (PreparedStatement ps = Jdbc.prepare(c, "INSERT INTO key_day_images AS d (key_id, day, images) VALUES (?, ?, ?) "
                + "ON CONFLICT (key_id, day) DO UPDATE SET images = d.images + EXCLUDED.images "
                + "WHERE d.images + EXCLUDED.images <= ? RETURNING images", quota.keyId(), (int) day, images, quota.dailyImages());
                ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    /**
     * Takes the idempotency key for {@code job}, or returns the outcome when the key names a live
     * earlier request. A key held by a concurrent submit of another process makes this wait for
     * that commit, then see its row: of two racing submits with one key, exactly one creates.
     */
    private SubmitOutcome earlierRequest(Connection c, NewJob job) throws SQLException {
        long now = job.createdAt().toEpochMilli();
        try (PreparedStatement ps = Jdbc.prepare(c, "INSERT INTO idempotency_keys (tenant, key, request_hash, job_id, created_at) "
                + "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, "
                + "job_id = EXCLUDED.job_id, created_at = EXCLUDED.created_at WHERE idempotency_keys.created_at <= ? RETURNING job_id",
                job.tenant(), job.idempotencyKey(), job.requestHash(), job.id(), now, now - IDEMPOTENCY_WINDOW.toMillis());
                ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                return null; // the key is ours (new, or it replaced an expired one)
            }
        }
        String hash;
        String jobId;
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT request_hash, job_id FROM idempotency_keys WHERE tenant = ? AND key = ?",
                job.tenant(), job.idempotencyKey());
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new StoreException("an idempotency key vanished while it was being checked");
            }
            hash = rs.getString(1);
            jobId = rs.getString(2);
        }
        if (!hash.equals(job.requestHash())) {
            return new SubmitOutcome.Conflict(jobId);
        }
        Optional<JobView> earlier = view(c, jobId, null);
        if (earlier.isPresent()) {
            return new SubmitOutcome.Existing(earlier.get());
        }
        // The key outlived its job's row (should not happen: rows are never deleted): take the key over.
        Jdbc.update(c, "UPDATE idempotency_keys SET request_hash = ?, job_id = ?, created_at = ? WHERE tenant = ? AND key = ?",
                job.requestHash(), job.id(), now, job.tenant(), job.idempotencyKey());
        return null;
    }

    /**
     * Inserts one lane's new jobs in one statement, numbered from the lane's ticket sequence in
     * group order, and returns the queue position of the first: {@code queue_position()} runs in
     * the same statement, on its snapshot, which holds every job committed before it but not the
     * ones it inserts. No lock is held to the commit: tickets taken by other processes' groups
     * still in flight count as ahead of this one (docs/postgres-queue-position.md).
     */
    private long insert(Connection c, Lane lane, List<NewJob> members) throws SQLException {
        int n = members.size();
        String[] ids = new String[n];
        String[] tenants = new String[n];
        String[] inputs = new String[n];
        Boolean[] syncModes = new Boolean[n];
        Long[] createdAts = new Long[n];
        Long[] deadlines = new Long[n];
        String[] webhooks = new String[n];
        String[] webhookBases = new String[n];
        for (int m = 0; m < n; m++) {
            NewJob job = members.get(m);
            ids[m] = job.id();
            tenants[m] = job.tenant();
            inputs[m] = Json.writeString(job.input());
            syncModes[m] = job.input().syncMode();
            createdAts[m] = job.createdAt().toEpochMilli();
            deadlines[m] = job.startDeadline() == null ? null : job.startDeadline().toEpochMilli();
            webhooks[m] = job.webhookUrl();
            webhookBases[m] = job.webhookBase();
        }
        String sequence = tickets.sequenceOf(lane);
        try (PreparedStatement ps = c.prepareStatement("WITH inserted AS ("
                + "INSERT INTO jobs (id, tenant, model, lane, ticket, state, input, sync_mode, run_after, start_deadline, created_at, "
                + "webhook_url, webhook_base) "
                + "SELECT j.id, j.tenant, ?, ?, nextval('" + sequence + "'), 'QUEUED', j.input, j.sync_mode, j.created_at, "
                + "j.start_deadline, j.created_at, j.webhook_url, j.webhook_base FROM unnest(?::text[], ?::text[], ?::text[], "
                + "?::boolean[], ?::bigint[], ?::bigint[], ?::text[], ?::text[]) WITH ORDINALITY AS j(id, tenant, input, "
                + "sync_mode, created_at, start_deadline, webhook_url, webhook_base, ord) "
                + "RETURNING ticket) "
                + "SELECT count(*), queue_position(?, ?::smallint, min(ticket)) FROM inserted")) {
            ps.setString(1, lane.model());
            ps.setShort(2, (short) lane.lane());
            ps.setArray(3, c.createArrayOf("text", ids));
            ps.setArray(4, c.createArrayOf("text", tenants));
            ps.setArray(5, c.createArrayOf("text", inputs));
            ps.setArray(6, c.createArrayOf("boolean", syncModes));
            ps.setArray(7, c.createArrayOf("bigint", createdAts));
            ps.setArray(8, c.createArrayOf("bigint", deadlines));
            ps.setArray(9, c.createArrayOf("text", webhooks));
            ps.setArray(10, c.createArrayOf("text", webhookBases));
            ps.setString(11, lane.model());
            ps.setShort(12, (short) lane.lane());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) != n) {
                    throw new SQLException("inserted fewer jobs than the group holds");
                }
                return rs.getLong(2);
            }
        }
    }

    @Override
    public Optional<JobView> find(String tenant, String id) {
        return jdbc.autocommit(c -> view(c, id, tenant));
    }

    /**
     * As {@link #find}, from memory once the job is finished. Live jobs are read from the database:
     * another process may change them at any moment (a worker's claim or finish, a cancel) and
     * hearing of it through the {@link ChangeFeed} comes after the commit and is best effort, so a
     * kept live state could be older than an answer the client already had from another process;
     * a queued job's position is the database's {@code queue_position()}.
     */
    @Override
    public Optional<JobView> status(String tenant, String id) {
        JobView kept = finished.get(id);
        if (kept != null) {
            return kept.tenant().equals(tenant) ? Optional.of(kept) : Optional.empty();
        }
        long stamp = finished.stamp(id);
        Optional<JobView> view = jdbc.autocommit(c -> view(c, id, null));
        view.filter(v -> v.state().isTerminal()).ifPresent(v -> finished.fill(id, stamp, v));
        return view.filter(v -> v.tenant().equals(tenant));
    }

    /** The job's view; with a non-null {@code tenant}, only if it is that tenant's. */
    private Optional<JobView> view(Connection c, String id, String tenant) throws SQLException {
        String sql = "SELECT " + VIEW_COLUMNS + " FROM jobs WHERE id = ?" + (tenant == null ? "" : " AND tenant = ?");
        try (PreparedStatement ps = tenant == null ? Jdbc.prepare(c, sql, id) : Jdbc.prepare(c, sql, id, tenant);
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(toView(rs)) : Optional.empty();
        }
    }

    private static JobView toView(ResultSet rs) throws SQLException {
        String errorType = rs.getString("error_type");
        Failure failure = null;
        if (errorType != null) {
            String loc = rs.getString("error_loc");
            failure = new Failure(ErrorType.fromWire(errorType), rs.getString("error"),
                    loc == null ? List.of() : Json.read(loc, LOC_TYPE));
        }
        return new JobView(rs.getString("id"), rs.getString("tenant"), rs.getString("model"), JobState.valueOf(rs.getString("state")),
                rs.getLong("position"), rs.getInt("attempt"), rs.getBoolean("sync_mode"), millis(rs, "created_at"),
                millis(rs, "started_at"), millis(rs, "finished_at"), Jdbc.nullableLong(rs, "inference_ms"), failure,
                rs.getBoolean("cancel_requested"), rs.getObject("expired_at") != null);
    }

    @Override
    public Optional<JobResult> result(String id) {
        return jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT result FROM jobs WHERE id = ? AND state = 'SUCCEEDED' AND expired_at IS NULL", id);
                    ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return Optional.empty();
                }
                return Optional.of(Json.read(rs.getString(1), JobResult.class));
            }
        });
    }

    @Override
    public List<LogEntry> logs(String id) {
        return jdbc.autocommit(c -> {
            List<LogEntry> entries = new ArrayList<>();
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT at, level, message FROM job_logs WHERE job_id = ? ORDER BY seq", id);
                    ResultSet rs = ps.executeQuery()) {
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
        // Each round is one transaction on the row's current state. A round finds nothing to do only
        // when the job moved between its two statements (a running job was requeued): look again.
        for (int round = 0; round < 10; round++) {
            CancelOutcome outcome = jdbc.transaction(c -> cancelRound(c, tenant, id));
            if (outcome == null) {
                continue;
            }
            switch (outcome) {
                case CANCELLED -> {
                    emit(l -> l.jobChanged(id));
                    feed.publishChanged(id);
                }
                case REQUESTED -> {
                    emit(l -> l.cancelRequested(id));
                    feed.publishCancel(id);
                }
                default -> {
                }
            }
            return outcome;
        }
        throw new StoreException("job " + id + " kept changing state while it was being cancelled");
    }

    private CancelOutcome cancelRound(Connection c, String tenant, String id) throws SQLException {
        long now = now();
        int cancelled = Jdbc.update(c, "UPDATE jobs SET state = 'CANCELLED', finished_at = ?, error_type = ?, error = ?, "
                + "lease_owner = NULL, lease_until = NULL WHERE id = ? AND tenant = ? AND state = 'QUEUED'",
                now, ErrorType.CANCELLED.wire(), Failure.CANCELLED_MESSAGE, id, tenant);
        if (cancelled == 1) {
            LogWriter.insert(c, id, LogEntry.info(Instant.ofEpochMilli(now), "Cancelled by the client while queued."));
            return CancelOutcome.CANCELLED;
        }
        JobState state;
        boolean requested;
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT state, cancel_requested FROM jobs WHERE id = ? AND tenant = ? FOR UPDATE", id, tenant);
                ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return CancelOutcome.NOT_FOUND;
            }
            state = JobState.valueOf(rs.getString(1));
            requested = rs.getBoolean(2);
        }
        return switch (state) {
            case QUEUED -> null;
            case RUNNING -> {
                if (!requested) {
                    Jdbc.update(c, "UPDATE jobs SET cancel_requested = TRUE WHERE id = ?", id);
                    LogEntry line = LogEntry.info(Instant.ofEpochMilli(now), "Cancellation requested by the client.");
                    LogWriter.insert(c, id, line);
                }
                yield CancelOutcome.REQUESTED;
            }
            default -> CancelOutcome.ALREADY_COMPLETED;
        };
    }

    // ---------------------------------------------------------------- worker side

    @Override
    public List<Claim> claim(int max, Duration lease, String model) {
        if (max <= 0) {
            return List.of();
        }
        long now = now();
        record Row(long seq, int lane, Claim claim) {
        }
        List<Row> rows = jdbc.autocommit(c -> {
            // A job past its start deadline is skipped, not failed here: the sweep fails it.
            try (PreparedStatement ps = Jdbc.prepare(c, "WITH next AS (SELECT id FROM jobs WHERE state = 'QUEUED' AND run_after <= ? "
                    + "AND (start_deadline IS NULL OR started_at IS NOT NULL OR start_deadline > ?) "
                    + "AND (CAST(? AS TEXT) IS NULL OR model = ?) "
                    + "ORDER BY lane, seq LIMIT ? FOR UPDATE SKIP LOCKED) "
                    + "UPDATE jobs SET state = 'RUNNING', attempt = attempt + 1, lease_owner = ?, lease_until = ?, "
                    + "started_at = COALESCE(started_at, ?), run_started_at = ? FROM next WHERE jobs.id = next.id "
                    + "RETURNING jobs.seq, jobs.id, jobs.tenant, jobs.model, jobs.lane, jobs.attempt, jobs.input, jobs.upstream, jobs.run_after",
                    now, now, model, model, max, owner, now + lease.toMillis(), now, now);
                    ResultSet rs = ps.executeQuery()) {
                List<Row> out = new ArrayList<>();
                while (rs.next()) {
                    GenerationInput input = Json.read(rs.getString("input"), GenerationInput.class);
                    out.add(new Row(rs.getLong("seq"), rs.getInt("lane"), new Claim(rs.getString("id"), rs.getString("tenant"),
                            rs.getString("model"), rs.getInt("attempt"), input, Instant.ofEpochMilli(now), rs.getString("upstream"),
                            Instant.ofEpochMilli(rs.getLong("run_after")))));
                }
                return out;
            }
        });
        rows.sort(Comparator.comparingInt(Row::lane).thenComparingLong(Row::seq));
        List<Claim> claims = new ArrayList<>(rows.size());
        for (Row row : rows) {
            claims.add(row.claim());
            emit(l -> l.jobChanged(row.claim().jobId()));
            feed.publishChanged(row.claim().jobId());
        }
        return claims;
    }

    @Override
    public void log(Claim claim, LogEntry entry) {
        logs.append(claim.jobId(), entry);
    }

    /**
     * One statement for all the claims. A claim whose job the client asked to cancel is also
     * reported to the listeners as a cancel request: the fallback for a lost notification.
     */
    @Override
    public Set<String> renew(Collection<Claim> claims, Duration lease) {
        if (claims.isEmpty()) {
            return Set.of();
        }
        String[] ids = claims.stream().map(Claim::jobId).toArray(String[]::new);
        Integer[] attempts = claims.stream().map(Claim::attempt).toArray(Integer[]::new);
        Set<String> held = new HashSet<>();
        List<String> cancelRequested = new ArrayList<>();
        jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "UPDATE jobs SET lease_until = ? FROM unnest(?::text[], ?::int[]) AS h(id, attempt) "
                    + "WHERE jobs.id = h.id AND jobs.attempt = h.attempt AND jobs.state = 'RUNNING' AND jobs.lease_owner = ? "
                    + "RETURNING jobs.id, jobs.cancel_requested", now() + lease.toMillis(), ids, attempts, owner);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    held.add(rs.getString(1));
                    if (rs.getBoolean(2)) {
                        cancelRequested.add(rs.getString(1));
                    }
                }
            }
            return null;
        });
        for (String id : cancelRequested) {
            emit(l -> l.cancelRequested(id));
        }
        Set<String> lost = new HashSet<>(Arrays.asList(ids));
        lost.removeAll(held);
        return lost;
    }

    @Override
    public boolean saveUpstream(Claim claim, String reference) {
        return jdbc.autocommit(c -> Jdbc.update(c, "UPDATE jobs SET upstream = ? WHERE " + HELD,
                reference, claim.jobId(), claim.attempt(), owner) == 1);
    }

    @Override
    public boolean finish(Claim claim, Outcome outcome, LogEntry line) {
        logs.flush(); // the job's earlier lines come before its outcome
        boolean done = jdbc.transaction(c -> {
            long now = now();
            Failure failure = switch (outcome) {
                case Outcome.Succeeded s -> null;
                case Outcome.Failed f -> f.failure();
                case Outcome.Cancelled x -> Failure.cancelled();
            };
            JobState state = switch (outcome) {
                case Outcome.Succeeded s -> JobState.SUCCEEDED;
                case Outcome.Failed f -> JobState.FAILED;
                case Outcome.Cancelled x -> JobState.CANCELLED;
            };
            JobResult result = outcome instanceof Outcome.Succeeded s ? s.result() : null;
            String provider = outcome instanceof Outcome.Succeeded s ? s.provider() : null;
            // the usage_ended trigger counts the outcome in this statement
            int updated = Jdbc.update(c, "UPDATE jobs SET state = ?, finished_at = ?, inference_ms = ?, error_type = ?, error = ?, "
                    + "error_loc = ?, result = ?, provider = ?, lease_owner = NULL, lease_until = NULL WHERE " + HELD,
                    state.name(), now, outcome.inferenceMillis(), failure == null ? null : failure.type().wire(),
                    failure == null ? null : failure.message(), locJson(failure), result == null ? null : Json.writeString(result),
                    provider, claim.jobId(), claim.attempt(), owner);
            if (updated == 0) {
                return false;
            }
            LogWriter.insert(c, claim.jobId(), line);
            return true;
        });
        if (done) {
            emit(l -> l.jobChanged(claim.jobId()));
            feed.publishChanged(claim.jobId());
        }
        return done;
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
        logs.flush();
        Boolean cancelled = jdbc.transaction(c -> {
            boolean requested;
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT cancel_requested FROM jobs WHERE " + HELD + " FOR UPDATE",
                    claim.jobId(), claim.attempt(), owner);
                    ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                requested = rs.getBoolean(1);
            }
            long now = now();
            LogWriter.insert(c, claim.jobId(), why);
            if (requested) {
                end(c, claim.jobId(), JobState.CANCELLED, Failure.cancelled(), null, null, now);
            } else {
                // A retry starts a fresh upstream request; a release (shutdown, storage failing) resumes the old one.
                backInQueue(c, claim.jobId(), runAfter, uncountAttempt, uncountAttempt);
            }
            return requested;
        });
        if (cancelled == null) {
            return false;
        }
        if (!cancelled) {
            emit(JobListener::jobsAvailable);
            feed.publishAvailable();
        }
        emit(l -> l.jobChanged(claim.jobId()));
        feed.publishChanged(claim.jobId());
        return true;
    }

    /** Moves the (locked) job to a terminal state. */
    private static void end(Connection c, String id, JobState state, Failure failure, JobResult result, Long inferenceMillis, long now)
            throws SQLException {
        Jdbc.update(c, END, state.name(), now, inferenceMillis, failure == null ? null : failure.type().wire(),
                failure == null ? null : failure.message(), locJson(failure), result == null ? null : Json.writeString(result), id);
    }

    /** RUNNING back to QUEUED at its old place (its ticket), due at {@code runAfter}. */
    private static void backInQueue(Connection c, String id, long runAfter, boolean uncountAttempt, boolean keepUpstream) throws SQLException {
        Jdbc.update(c, "UPDATE jobs SET state = 'QUEUED', run_after = ?, attempt = attempt - ?, lease_owner = NULL, lease_until = NULL, "
                + "upstream = CASE WHEN ? THEN upstream END WHERE id = ?", runAfter, uncountAttempt ? 1 : 0, keepUpstream, id);
    }

    // ---------------------------------------------------------------- maintenance

    /**
     * Any process may reap any process's expired leases. The expired rows are locked with
     * {@code SKIP LOCKED}, so two reapers take disjoint jobs, and a renewal that committed first
     * takes the job out of the reaper's set (the lock re-reads the row).
     */
    @Override
    public List<String> reapExpiredLeases(int maxAttempts, Instant expiredBefore) {
        List<String> all = new ArrayList<>();
        List<Reaped> batch;
        do {
            batch = jdbc.transaction(c -> reapBatch(c, maxAttempts, expiredBefore.toEpochMilli()));
            for (Reaped job : batch) { // committed
                JobLines.reaped(job.id(), job.tenant(), job.model(), job.attempt(), job.after());
                all.add(job.id());
            }
        } while (batch.size() == REAP_BATCH);
        for (String id : all) {
            emit(l -> l.jobChanged(id));
            feed.publishChanged(id);
        }
        if (!all.isEmpty()) {
            emit(JobListener::jobsAvailable);
            feed.publishAvailable();
        }
        return all;
    }

    /** A job the reaper took from its worker, and the state it left it in. */
    private record Reaped(String id, String tenant, String model, int attempt, JobState after) {
    }

    private List<Reaped> reapBatch(Connection c, int maxAttempts, long expiredBefore) throws SQLException {
        long now = now();
        record Expired(String id, int attempt, boolean cancelRequested, String tenant, String model) {
        }
        List<Expired> expired = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT id, attempt, cancel_requested, tenant, model FROM jobs "
                + "WHERE state = 'RUNNING' AND lease_until < ? ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED", expiredBefore, REAP_BATCH);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                expired.add(new Expired(rs.getString(1), rs.getInt(2), rs.getBoolean(3), rs.getString(4), rs.getString(5)));
            }
        }
        List<Reaped> reaped = new ArrayList<>(expired.size());
        Instant at = Instant.ofEpochMilli(now);
        for (Expired job : expired) {
            if (job.cancelRequested()) {
                end(c, job.id(), JobState.CANCELLED, Failure.cancelled(), null, null, now);
                LogWriter.insert(c, job.id(), LogEntry.warn(at, "Its worker stopped responding; the job was cancelled as the client asked."));
            } else if (job.attempt() >= maxAttempts) {
                end(c, job.id(), JobState.FAILED, Failure.of(ErrorType.INTERNAL_ERROR,
                        "The job's worker stopped responding on each of its " + job.attempt() + " attempts."), null, null, now);
                LogWriter.insert(c, job.id(), LogEntry.error(at, "Its worker stopped responding on attempt " + job.attempt()
                        + " of " + maxAttempts + "; the job failed."));
            } else {
                backInQueue(c, job.id(), now, false, true); // the next run resumes its upstream request
                LogWriter.insert(c, job.id(), LogEntry.warn(at, "Its worker stopped responding on attempt " + job.attempt()
                        + "; back in the queue."));
            }
            reaped.add(new Reaped(job.id(), job.tenant(), job.model(), job.attempt(),
                    job.cancelRequested() ? JobState.CANCELLED : job.attempt() >= maxAttempts ? JobState.FAILED : JobState.QUEUED));
        }
        return reaped;
    }

    @Override
    public int failMissedStartDeadlines() {
        long now = now();
        record Late(String id, String tenant, String model) {
        }
        List<Late> late = jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "UPDATE jobs SET state = 'FAILED', finished_at = ?, error_type = ?, error = ? "
                    + "WHERE state = 'QUEUED' AND start_deadline IS NOT NULL AND start_deadline <= ? AND started_at IS NULL "
                    + "RETURNING id, tenant, model",
                    now, ErrorType.REQUEST_TIMEOUT.wire(),
                    "The request did not start within its start timeout (X-Fal-Request-Start-Timeout).", now);
                    ResultSet rs = ps.executeQuery()) {
                List<Late> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Late(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
                return out;
            }
        });
        for (Late job : late) {
            JobLines.timedOut(job.id(), job.tenant(), job.model());
            emit(l -> l.jobChanged(job.id()));
            feed.publishChanged(job.id());
        }
        return late.size();
    }

    /** Processes sweeping at once expire disjoint jobs ({@code SKIP LOCKED}): each purges its own. */
    @Override
    public List<String> expireResults(Instant finishedBefore, int limit) {
        return jdbc.transaction(c -> {
            long now = now();
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = Jdbc.prepare(c, "WITH old AS (SELECT id FROM jobs WHERE finished_at IS NOT NULL "
                    + "AND expired_at IS NULL AND finished_at < ? "
                    + "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.job_id = jobs.id AND d.done_at IS NULL) " // kept for its webhook
                    + "ORDER BY finished_at LIMIT ? FOR UPDATE SKIP LOCKED) "
                    + "UPDATE jobs SET expired_at = ?, result = NULL, input = NULL FROM old WHERE jobs.id = old.id RETURNING jobs.id",
                    finishedBefore.toEpochMilli(), limit, now);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            if (!ids.isEmpty()) {
                Jdbc.update(c, "DELETE FROM job_logs WHERE job_id = ANY(?)", (Object) ids.toArray(String[]::new));
                Jdbc.update(c, "DELETE FROM webhook_deliveries WHERE job_id = ANY(?)", (Object) ids.toArray(String[]::new));
            }
            Jdbc.update(c, "DELETE FROM idempotency_keys WHERE created_at < ?", now - IDEMPOTENCY_WINDOW.toMillis());
            return ids;
        });
    }

    @Override
    public List<String> expiredNotPurged(int limit) {
        return jdbc.autocommit(c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT id FROM jobs WHERE expired_at IS NOT NULL AND NOT purged LIMIT ?", limit);
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        });
    }

    @Override
    public void markPurged(Collection<String> jobIds) {
        if (jobIds.isEmpty()) {
            return;
        }
        jdbc.autocommit(c -> Jdbc.update(c, "UPDATE jobs SET purged = TRUE WHERE id = ANY(?)", (Object) jobIds.toArray(String[]::new)));
    }

    @Override
    public List<QueueDepth> queueDepth() {
        return jdbc.autocommit(c -> {
            List<QueueDepth> out = new ArrayList<>();
            try (PreparedStatement ps = Jdbc.prepare(c, QUEUE_DEPTH); ResultSet rs = ps.executeQuery()) {
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
        return jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT MIN(run_after) FROM jobs WHERE state = 'QUEUED' AND started_at IS NOT NULL AND run_after > ?", now());
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                long min = rs.getLong(1);
                return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(min));
            }
        });
    }

    @Override
    public void addListener(JobListener listener) {
        listeners.add(listener);
    }

    @Override
    public boolean ping() {
        try {
            return jdbc.autocommit(c -> c.isValid(2));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Stores the submits and log lines still queued, sends the last notifications, closes every connection. */
    @Override
    public void close() {
        submits.close();
        logs.close();
        feed.close();
        db.close();
    }

    // ---------------------------------------------------------------- internals

    private void emit(Consumer<JobListener> event) {
        listeners.emit(event);
    }

    private long now() {
        return clock.millis();
    }

    private static String locJson(Failure failure) {
        return failure == null || failure.loc().isEmpty() ? null : Json.writeString(failure.loc());
    }

    private static Instant millis(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(value);
    }
}
