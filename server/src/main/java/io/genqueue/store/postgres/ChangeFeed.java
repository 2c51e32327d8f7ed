package io.genqueue.store.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one process tells the others about its commits, and hears from them: NOTIFY and LISTEN on
 * two channels, backed by polling. {@value #WORK} carries "work may be claimable" (one per submit
 * group, the busy one) and only processes that run jobs listen to it; {@value #CHANNEL} carries
 * everything else, and every process listens to it (status streams, key caches).
 *
 * <p>Sending: events are queued after the local commit and a sender thread passes everything
 * waiting to one {@code pg_notify} statement of its own. No business transaction notifies:
 * PostgreSQL serialises the commits of notifying transactions, so notifying from every submit
 * would cap the cluster's submit rate. Events are coalesced (one "available" per batch) and a
 * notification is best-effort: a lost one costs latency, never correctness (see the fallbacks).
 *
 * <p>Payload: {@code <origin> <event> <event> ...}, where an event is {@code a} (work may be
 * claimable), {@code j:<jobId>} (the job's visible state changed) or {@code c:<jobId>} (a cancel
 * was requested for the running job) or {@code k} (an API key was revoked: drop cached keys). A
 * process ignores its own notifications; it told its own listeners at commit. A revocation is
 * announced inside its own transaction (it is rare, so serialising it costs nothing) with the
 * origin {@value #ANYONE}, which is no process's, so every process hears it.
 *
 * <p>Listening: a dedicated connection (outside the pool) LISTENs. Every {@code pollInterval}
 * without fail the handler also hears "available", so a lost notification (or a dead listen
 * connection, which is re-opened) delays a claim by at most one interval. With {@code pollOnly}
 * no connection listens; polling is then the only wake-up, and a cancel of a job running here is
 * found by the next lease renewal.
 */
final class ChangeFeed implements AutoCloseable {

    static final String CHANNEL = "genqueue_jobs";
    static final String WORK = "genqueue_work";
    /** The origin of notifications every process acts on, its sender's included. */
    static final String ANYONE = "-";

    private static final Logger log = LoggerFactory.getLogger(ChangeFeed.class);
    private static final int MAX_PAYLOAD = 7_000; // PostgreSQL's limit is 8000 bytes
    private static final long SLICE_MS = 100;     // how long a blocking wait lasts before close() is re-checked
    private static final long RECONNECT_PAUSE_MS = 1_000;
    /**
     * The least time between two "available" notifications of one process. PostgreSQL (15) wakes
     * every LISTEN session of the database for each notifying commit, whatever its channel, and
     * under submit load one per group was the largest part of the database's signalling work. An
     * "available" that comes sooner is sent when the gap has passed (never dropped): an idle
     * worker may hear of a job up to this much later, and only while this process commits submit
     * groups faster than one per gap, when workers are rarely idle.
     */
    static final Duration AVAILABLE_GAP = Duration.ofMillis(2);

    /** What the process learns from other processes (and from polling). */
    interface Handler {
        void available();

        void changed(String jobId);

        void cancelRequested(String jobId);

        void keysRevoked();
    }

    private final PostgresDatabase db;
    private final Jdbc jdbc;
    private final String origin;
    private final Handler handler;
    private final long pollNanos;
    private final boolean pollOnly;
    private final boolean runsJobs;
    private final long availableGapNanos;
    private final BlockingQueue<String> outbox = new LinkedBlockingQueue<>();
    private final Thread sender;
    private final Thread listener;
    private volatile boolean closed;
    private volatile boolean listening;

    ChangeFeed(PostgresDatabase db, String origin, PostgresConfig config, Duration availableGap, Handler handler) {
        this.availableGapNanos = availableGap.toNanos();
        this.db = db;
        this.jdbc = new Jdbc(db.pool());
        this.origin = origin;
        this.handler = handler;
        this.pollNanos = config.pollInterval().toNanos();
        this.pollOnly = config.pollOnly();
        this.runsJobs = config.runsJobs();
        this.sender = Thread.ofPlatform().name("genqueue-pg-notify").daemon().start(this::sendLoop);
        this.listener = Thread.ofPlatform().name("genqueue-pg-listen").daemon().start(this::listenLoop);
    }

    // ---------------------------------------------------------------- sending

    /** After a local commit: work may be claimable. */
    void publishAvailable() {
        outbox.add("a");
    }

    /** After a local commit: the job's visible state changed. */
    void publishChanged(String jobId) {
        outbox.add("j:" + jobId);
    }

    /** After a local commit: the running job should be aborted by whichever process runs it. */
    void publishCancel(String jobId) {
        outbox.add("c:" + jobId);
    }

    /** Inside a transaction that revoked API keys: every process drops its cached keys once it commits. */
    static void notifyKeysRevoked(Connection c) throws SQLException {
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT pg_notify(?, ?)", CHANNEL, ANYONE + " k")) {
            ps.executeQuery().close();
        }
    }

    /** Whether the LISTEN session is up (always false with {@code pollOnly}). */
    boolean listening() {
        return listening;
    }

    private void sendLoop() {
        List<String> batch = new ArrayList<>();
        long lastAvailable = System.nanoTime() - availableGapNanos;
        boolean availableDue = false; // an "available" waits for its gap to pass
        while (!closed || !outbox.isEmpty() || availableDue) {
            try {
                long waitNanos = availableDue ? Math.max(0, lastAvailable + availableGapNanos - System.nanoTime())
                        : TimeUnit.MILLISECONDS.toNanos(SLICE_MS);
                String first = outbox.poll(waitNanos, TimeUnit.NANOSECONDS);
                if (first != null) {
                    batch.add(first);
                    outbox.drainTo(batch);
                }
                availableDue |= batch.removeIf("a"::equals);
                long now = System.nanoTime();
                if (availableDue && now - lastAvailable >= availableGapNanos) {
                    batch.add("a");
                    availableDue = false;
                    lastAvailable = now;
                }
                if (!batch.isEmpty()) {
                    send(payloads(batch));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.warn("could not notify other processes ({} event(s)); they will find the changes by polling: {}",
                        batch.size(), e.toString());
            } finally {
                batch.clear();
            }
        }
    }

    /** A payload and the channel it goes to. */
    record Payload(String channel, String text) {
    }

    /** The events, each once, in payloads that fit PostgreSQL's limit: "available" alone on its channel. */
    List<Payload> payloads(List<String> events) {
        Set<String> unique = new LinkedHashSet<>(events);
        List<Payload> payloads = new ArrayList<>();
        if (unique.remove("a")) {
            payloads.add(new Payload(WORK, origin + " a"));
        }
        StringBuilder current = new StringBuilder(origin);
        for (String event : unique) {
            if (current.length() + 1 + event.length() > MAX_PAYLOAD) {
                payloads.add(new Payload(CHANNEL, current.toString()));
                current = new StringBuilder(origin);
            }
            current.append(' ').append(event);
        }
        if (current.length() > origin.length()) {
            payloads.add(new Payload(CHANNEL, current.toString()));
        }
        return payloads;
    }

    private void send(List<Payload> payloads) {
        jdbc.autocommit(c -> {
            // A notifying transaction gets a transaction id, so its commit would wait for a WAL
            // flush, which a best-effort wake-up does not need (listeners hear it at the commit
            // either way). set_config(..., true) lasts to this statement's commit.
            String[] channels = payloads.stream().map(Payload::channel).toArray(String[]::new);
            String[] texts = payloads.stream().map(Payload::text).toArray(String[]::new);
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT set_config('synchronous_commit', 'off', true), "
                    + "pg_notify(n.channel, n.text) FROM unnest(?::text[], ?::text[]) AS n(channel, text)", channels, texts)) {
                ps.executeQuery().close();
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- listening

    private void listenLoop() {
        long nextPoll = System.nanoTime() + pollNanos;
        while (!closed) {
            if (pollOnly) {
                nextPoll = pollTick(nextPoll);
                pause(Math.min(SLICE_MS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextPoll - System.nanoTime()))));
                continue;
            }
            try (Connection c = db.openDedicated()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                    if (runsJobs) {
                        s.execute("LISTEN " + WORK);
                    }
                }
                handler.available(); // notifications sent while nobody listened are lost: look now
                listening = true;
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    long waitMs = Math.max(1, Math.min(SLICE_MS, TimeUnit.NANOSECONDS.toMillis(nextPoll - System.nanoTime())));
                    PGNotification[] notifications = pg.getNotifications((int) waitMs);
                    if (notifications != null) {
                        for (PGNotification n : notifications) {
                            dispatch(n.getParameter());
                        }
                    }
                    nextPoll = pollTick(nextPoll);
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                if (!closed) {
                    log.warn("the LISTEN connection to {} failed; polling until it is back: {}", db.describe(), e.toString());
                    pause(RECONNECT_PAUSE_MS);
                    nextPoll = pollTick(nextPoll);
                }
            }
            listening = false;
        }
    }

    /** Raises the poll wake-up if it is due; returns when the next one is due. */
    private long pollTick(long nextPoll) {
        long now = System.nanoTime();
        if (now - nextPoll >= 0) {
            safely(handler::available);
            return now + pollNanos;
        }
        return nextPoll;
    }

    /** Handles one payload from another process. */
    void dispatch(String payload) {
        String[] parts = payload.split(" ");
        if (parts.length == 0 || parts[0].equals(origin)) {
            return;
        }
        for (int i = 1; i < parts.length; i++) {
            String event = parts[i];
            if (event.equals("a")) {
                safely(handler::available);
            } else if (event.startsWith("j:")) {
                safely(() -> handler.changed(event.substring(2)));
            } else if (event.startsWith("c:")) {
                safely(() -> handler.cancelRequested(event.substring(2)));
            } else if (event.equals("k")) {
                safely(handler::keysRevoked);
            }
        }
    }

    private static void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.error("a job listener failed", e);
        }
    }

    private void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            // close() interrupts
        }
    }

    /** Sends what is queued, then stops both threads. */
    @Override
    public void close() {
        closed = true;
        listener.interrupt(); // ends a pause; a wait for notifications ends within a slice
        join(sender);
        join(listener);
    }

    private static void join(Thread t) {
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
