package io.genqueue.store.postgres;

import io.genqueue.queue.NewJob;
import io.genqueue.queue.StoreException;
import io.genqueue.queue.SubmitOutcome;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for submits: one thread takes every submit waiting (up to {@link #MAX_GROUP}),
 * stores them in one transaction, commits once, runs the after-commit hook once (a local wake-up
 * and a notification queued for the other processes), and only then answers the callers. While one
 * group commits the next gathers, so groups grow with load and nothing waits on a timer.
 *
 * <p>A group holds each idempotency key at most once; a later submit with the same key waits
 * for the next group, where it finds the first one's committed key. If a group fails, each of its
 * submits is retried alone, so one bad request fails only itself.
 */
final class SubmitWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SubmitWriter.class);
    static final int MAX_GROUP = 256;

    /** Stores a group inside the caller's transaction; one outcome per job, in order. */
    interface Group {
        List<SubmitOutcome> store(Connection c, List<NewJob> jobs) throws SQLException;

        /**
         * Whether {@link #store} runs a single statement for these jobs: it then runs with
         * autocommit on, the statement its own transaction, which saves the COMMIT's round trip.
         */
        boolean oneStatement(List<NewJob> jobs);
    }

    private record Pending(NewJob job, CompletableFuture<SubmitOutcome> future) {
        String key() {
            return job.idempotencyKey() == null ? null : job.tenant() + "\u0000" + job.idempotencyKey();
        }
    }

    private static final Pending POISON = new Pending(null, null);

    private final DataSource pool;
    private final Group group;
    private final Runnable afterCommit;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final AtomicLong commits = new AtomicLong();
    private volatile boolean closed;

    SubmitWriter(DataSource pool, Group group, Runnable afterCommit) {
        this.pool = pool;
        this.group = group;
        this.afterCommit = afterCommit;
        this.thread = Thread.ofPlatform().name("genqueue-pg-submit").daemon().start(this::loop);
    }

    /** Stores the job; returns once its group is committed. */
    SubmitOutcome submit(NewJob job) {
        CompletableFuture<SubmitOutcome> future = new CompletableFuture<>();
        synchronized (this) { // nothing is queued behind the POISON
            if (closed) {
                throw new StoreException("the store is closed");
            }
            queue.add(new Pending(job, future));
        }
        try {
            return future.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new StoreException("storing the job failed: " + e.getCause(), e.getCause());
        }
    }

    /** Groups committed so far. */
    long commits() {
        return commits.get();
    }

    private void loop() {
        List<Pending> carried = new ArrayList<>();
        boolean running = true;
        while (running) {
            List<Pending> batch = new ArrayList<>(carried);
            carried.clear();
            try {
                if (batch.isEmpty()) {
                    batch.add(queue.take());
                }
                queue.drainTo(batch, MAX_GROUP - batch.size());
            } catch (InterruptedException e) {
                continue; // only close() interrupts, after queueing POISON
            }
            int poison = batch.indexOf(POISON);
            if (poison >= 0) {
                running = false;
                batch.subList(poison + 1, batch.size()).forEach(p -> p.future().completeExceptionally(new StoreException("the store is closed")));
                batch.subList(poison, batch.size()).clear();
            }
            List<Pending> now = new ArrayList<>(batch.size());
            Set<String> keys = new HashSet<>();
            for (Pending p : batch) {
                String key = p.key();
                if (key != null && !keys.add(key)) {
                    carried.add(p); // same key as an earlier submit of this group: next group
                } else {
                    now.add(p);
                }
            }
            if (!now.isEmpty()) {
                run(now);
            }
            if (!running && !carried.isEmpty()) {
                running = true; // finish the carried ones before stopping
                queue.add(POISON);
            }
        }
    }

    private void run(List<Pending> pendings) {
        List<NewJob> jobs = pendings.stream().map(Pending::job).toList();
        List<SubmitOutcome> outcomes;
        try (Connection c = pool.getConnection()) {
            if (group.oneStatement(jobs)) {
                outcomes = group.store(c, jobs);
            } else {
                c.setAutoCommit(false);
                try {
                    outcomes = group.store(c, jobs);
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    Jdbc.rollbackQuietly(c);
                    throw e;
                } finally {
                    c.setAutoCommit(true);
                }
            }
            commits.incrementAndGet();
        } catch (SQLException | RuntimeException e) {
            if (pendings.size() > 1) {
                log.warn("storing a group of {} submits failed; retrying each alone: {}", pendings.size(), e.toString());
                pendings.forEach(p -> run(List.of(p)));
            } else {
                pendings.get(0).future().completeExceptionally(e instanceof StoreException se ? se
                        : new StoreException("storing the job failed: " + e.getMessage(), e));
            }
            return;
        }
        if (outcomes.stream().anyMatch(o -> o instanceof SubmitOutcome.Created)) {
            try {
                afterCommit.run();
            } catch (RuntimeException e) {
                log.error("an after-commit action failed", e);
            }
        }
        for (int i = 0; i < pendings.size(); i++) {
            pendings.get(i).future().complete(outcomes.get(i));
        }
    }

    /** Stores what is queued, then stops. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            queue.add(POISON);
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
