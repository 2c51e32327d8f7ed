package io.genqueue.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.queue.Claim;
import io.genqueue.queue.JobState;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobStoreContract;
import io.genqueue.queue.JobView;
import io.genqueue.testing.SettableClock;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job store contract on SQLite, plus what only a file-backed, one-process store promises. */
class SqliteJobStoreTest extends JobStoreContract {

    @TempDir
    Path dir;

    @Override
    protected JobStore open(SettableClock clock) {
        return SqliteJobStore.open(SqliteDatabase.open(dir), clock, 2);
    }

    @Test
    void queued_jobs_and_positions_survive_a_restart() {
        String a = submit("t1");
        String b = submit("t1");
        String c = submit("t1");
        store.cancel("t1", a);
        store.close();
        store = open(clock);
        JobView later = view(c);
        assertThat(later.state()).isEqualTo(JobState.QUEUED);
        assertThat(later.queuePosition()).isEqualTo(1);
        assertThat(view(b).queuePosition()).isZero();
    }

    @Test
    void a_job_running_when_the_process_died_is_requeued_at_the_next_start() {
        String id = submit("t1");
        Claim claim = claimOne();
        store.close();
        store = open(clock); // a new process: the lease of the old owner counts as expired at once
        assertThat(store.reapExpiredLeases(3, clock.instant())).containsExactly(id);
        Claim again = claimOne();
        assertThat(again.attempt()).isEqualTo(2);
        assertThat(finish(claim, new io.genqueue.queue.Outcome.Cancelled(0))).isFalse();
    }

    @Test
    void the_database_is_in_wal_mode_and_passes_an_integrity_check() throws Exception {
        for (int i = 0; i < 20; i++) {
            submit("t1");
        }
        store.claim(5, Duration.ofSeconds(30));
        store.close();
        store = null;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(SqliteDatabase.FILE_NAME));
                ResultSet mode = c.createStatement().executeQuery("PRAGMA journal_mode");
                ResultSet check = c.createStatement().executeQuery("PRAGMA integrity_check")) {
            mode.next();
            check.next();
            assertThat(mode.getString(1)).isEqualTo("wal");
            assertThat(check.getString(1)).isEqualTo("ok");
        }
    }

    @Test
    void submits_from_many_threads_share_commits() throws Exception {
        // Each submit returns only once durable; many concurrent ones must still all land, in fewer
        // commits than submits (group commit).
        long commitsBefore = ((SqliteJobStore) store).writer().commits();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int t = 0; t < 16; t++) {
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 50; i++) {
                    submit("t1");
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        long commits = ((SqliteJobStore) store).writer().commits() - commitsBefore;
        assertThat(commits).isLessThan(800);
        assertThat(store.claim(1000, Duration.ofSeconds(30))).hasSize(800);
    }

}
