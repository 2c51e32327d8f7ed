package io.genqueue.store.sqlite;

import io.genqueue.queue.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only thread that writes to the database: group commit.
 *
 * <p>Callers hand it units of work; it takes everything that is waiting (up to {@link #MAX_BATCH}),
 * runs each unit inside its own savepoint of one transaction, commits once, and only then completes
 * the callers' futures. One flush to disk thus makes a whole batch durable: while one commit
 * flushes, the next batch gathers, so batches grow with load and nothing waits on a timer.
 *
 * <p>Durability is chosen per unit. A durable unit (what a client is told about: a submit, a
 * cancel, an outcome) commits with {@code synchronous=FULL}: its batch's commit flushes the WAL.
 * Other units (claims, lease renewals, log lines) may commit with {@code synchronous=NORMAL}: no
 * flush, so a claim does not wait for the disk before its job starts. They survive a crash of the
 * process (the OS holds the written WAL), and the WAL is append-only, so the next flushed commit
 * makes them durable too; a power cut may undo them, which only means a job runs again. A batch is
 * flushed if any of its units is durable.
 *
 * <p>Guarantees: units run one at a time, in the order they were submitted, on this thread only
 * (so a unit may update in-memory state that only this thread writes, like the queue index). A unit
 * that throws is rolled back to its savepoint and fails alone. A failed commit fails every unit of
 * the batch and calls the {@code onCommitFailure} hook, whose job is to resynchronise any memory
 * those units changed. {@link Tx#afterCommit} actions run after the commit, before futures complete.
 */
final class SqliteWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SqliteWriter.class);
    static final int MAX_BATCH = 512;

    /** A unit of work; runs on the writer thread inside the batch transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    /** What a unit of work sees: the connection (with cached statements) and after-commit hooks. */
    static final class Tx extends StatementCache {
        private List<Runnable> afterCommit = new ArrayList<>();
        private List<Runnable> whenDone = new ArrayList<>();

        private Tx(Connection connection) {
            super(connection);
        }

        /** Runs {@code action} once the unit's changes are committed; never if they are not. */
        void afterCommit(Runnable action) {
            afterCommit.add(action);
        }

        /**
         * Runs {@code action} once the unit's batch has committed (after its after-commit actions)
         * or failed, or the unit was rolled back: for memory that must be released either way.
         */
        void whenDone(Runnable action) {
            whenDone.add(action);
        }
    }

    private record Task<T>(Work<T> work, boolean durable, CompletableFuture<T> future) {
    }

    private static final Task<Void> POISON = new Task<>(tx -> null, false, new CompletableFuture<>());

    private final BlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
    private final Tx tx;
    private final Work<?> onCommitFailure;
    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean healthy = true;
    private boolean flushing = true; // the connection's synchronous setting: FULL (true) or NORMAL
    private volatile long commits;

    /**
     * @param onCommitFailure runs on the writer thread, outside any transaction, after a batch
     *     failed to commit
     */
    SqliteWriter(SqliteDatabase db, Work<?> onCommitFailure) {
        try {
            this.tx = new Tx(db.openWriter());
        } catch (SQLException e) {
            throw new StoreException("cannot open " + db.file() + " for writing: " + e.getMessage(), e);
        }
        this.onCommitFailure = onCommitFailure;
        this.thread = Thread.ofPlatform().name("genqueue-sqlite-writer").unstarted(this::loop);
        this.thread.start();
    }

    /** Queues a durable unit of work; the future completes once it is committed and flushed (or failed). */
    <T> CompletableFuture<T> submit(Work<T> work) {
        return submit(work, true);
    }

    /**
     * Queues a unit of work; the future completes once it is committed (or failed), and, if
     * {@code durable}, flushed to disk.
     */
    <T> CompletableFuture<T> submit(Work<T> work, boolean durable) {
        CompletableFuture<T> future = new CompletableFuture<>();
        if (closed) {
            future.completeExceptionally(new StoreException("the store is closed"));
            return future;
        }
        queue.add(new Task<>(work, durable, future));
        return future;
    }

    /** Runs a durable unit of work and waits until it is committed and flushed. */
    <T> T call(Work<T> work) {
        return call(work, true);
    }

    /** Runs a unit of work and waits until it is committed (and, if {@code durable}, flushed). */
    <T> T call(Work<T> work, boolean durable) {
        try {
            return submit(work, durable).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new StoreException("store write failed: " + e.getCause(), e.getCause());
        }
    }

    /** Batches committed so far (each is one commit, and one flush if it held a durable unit). */
    long commits() {
        return commits;
    }

    boolean healthy() {
        return healthy && thread.isAlive();
    }

    private void loop() {
        List<Task<?>> batch = new ArrayList<>(MAX_BATCH);
        boolean running = true;
        while (running) {
            try {
                batch.add(queue.take());
                queue.drainTo(batch, MAX_BATCH - 1);
            } catch (InterruptedException e) {
                // Only close() interrupts, after queueing POISON; keep draining until we reach it.
                continue;
            }
            int poison = batch.indexOf(POISON);
            if (poison >= 0) {
                running = false;
                List<Task<?>> rest = new ArrayList<>(batch.subList(poison + 1, batch.size()));
                batch.subList(poison, batch.size()).clear();
                rest.forEach(t -> t.future().completeExceptionally(new StoreException("the store is closed")));
            }
            if (!batch.isEmpty()) {
                runBatch(batch);
            }
            batch.clear();
        }
        tx.close();
    }

    private void runBatch(List<Task<?>> batch) {
        List<Object> results = new ArrayList<>(batch.size());
        List<List<Runnable>> hooks = new ArrayList<>(batch.size());
        List<Runnable> done = new ArrayList<>();
        try {
            runBatch(batch, results, hooks, done);
        } finally {
            for (Runnable action : done) {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    log.error("a when-done action failed", e);
                }
            }
        }
    }

    private void runBatch(List<Task<?>> batch, List<Object> results, List<List<Runnable>> hooks, List<Runnable> done) {
        boolean flush = batch.stream().anyMatch(Task::durable);
        try (Statement s = tx.connection().createStatement()) {
            if (flush != flushing) {
                s.execute(flush ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                flushing = flush;
            }
            s.execute("BEGIN IMMEDIATE");
            for (Task<?> task : batch) {
                tx.afterCommit = new ArrayList<>();
                tx.whenDone = done;
                s.execute("SAVEPOINT unit");
                try {
                    results.add(task.work().run(tx));
                    s.execute("RELEASE unit");
                    hooks.add(tx.afterCommit);
                } catch (SQLException | RuntimeException e) {
                    s.execute("ROLLBACK TO unit");
                    s.execute("RELEASE unit");
                    results.add(new Failed(e));
                    hooks.add(List.of());
                }
            }
            s.execute("COMMIT");
            commits++; // only this thread writes it
            healthy = true;
        } catch (SQLException | RuntimeException e) {
            failBatch(batch, e);
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            complete(batch.get(i), results.get(i), hooks.get(i));
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> void complete(Task<T> task, Object result, List<Runnable> hooks) {
        if (result instanceof Failed f) {
            task.future().completeExceptionally(f.error() instanceof SQLException
                    ? new StoreException("store write failed: " + f.error().getMessage(), f.error())
                    : f.error());
            return;
        }
        for (Runnable hook : hooks) {
            try {
                hook.run();
            } catch (RuntimeException e) {
                log.error("an after-commit action failed", e);
            }
        }
        task.future().complete((T) result);
    }

    private void failBatch(List<Task<?>> batch, Exception cause) {
        healthy = false;
        log.error("committing a batch of {} writes failed; they are rolled back: {}", batch.size(), cause.toString());
        try (Statement s = tx.connection().createStatement()) {
            s.execute("ROLLBACK");
        } catch (SQLException ignored) {
            // BEGIN itself failed: no transaction is open
        }
        StoreException failure = new StoreException("the database could not commit: " + cause.getMessage(), cause);
        batch.forEach(t -> t.future().completeExceptionally(failure));
        try {
            onCommitFailure.run(tx);
        } catch (SQLException | RuntimeException e) {
            log.error("resynchronising after a failed commit failed", e);
        }
    }

    private record Failed(Exception error) {
    }

    /** Stops taking work, finishes what is queued, and closes the connection. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        queue.add(POISON);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
