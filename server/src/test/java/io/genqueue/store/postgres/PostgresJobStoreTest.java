package io.genqueue.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobStoreContract;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.SubmitOutcome;
import io.genqueue.testing.SettableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The job store contract on PostgreSQL, plus what only this store promises. The class has a schema
 * of its own, emptied before each test.
 */
class PostgresJobStoreTest extends JobStoreContract {

    private static final TestSchemas schemas = new TestSchemas();
    private static String url;

    @Override
    protected JobStore open(SettableClock clock) {
        if (url == null) {
            url = schemas.newSchemaUrl();
        } else {
            TestSchemas.truncate(url);
        }
        return PostgresJobStore.open(PostgresConfig.of(url), clock);
    }

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }

    private PostgresJobStore pg() {
        return (PostgresJobStore) store;
    }

    @Test
    void submits_from_many_threads_share_commits() throws Exception {
        // Each submit returns only once committed; many concurrent ones must still all land, in
        // fewer commits than submits (group commit).
        long commitsBefore = pg().submitCommits();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 25; i++) {
                    submit("t1");
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(pg().submitCommits() - commitsBefore).isLessThan(400);
        assertThat(store.claim(1000, Duration.ofSeconds(30))).hasSize(400);
    }

    @Test
    void concurrent_submits_with_one_idempotency_key_create_one_job() throws Exception {
        Map<String, Integer> created = new ConcurrentHashMap<>();
        List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(Thread.ofVirtual().start(() -> {
                for (int k = 0; k < 10; k++) {
                    NewJob job = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("x"), clock.instant())
                            .idempotency("key-" + k, "h").build();
                    SubmitOutcome outcome = store.submit(job);
                    switch (outcome) {
                        case SubmitOutcome.Created c -> {
                            created.merge("key-" + k, 1, Integer::sum);
                            ids.add(c.job().id());
                        }
                        case SubmitOutcome.Existing e -> ids.add(e.job().id());
                        case SubmitOutcome.Conflict x -> throw new AssertionError("same body, no conflict: " + x);
                        case SubmitOutcome.OverQuota x -> throw new AssertionError("no quota, never refused: " + x);
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(created).hasSize(10).allSatisfy((key, count) -> assertThat(count).isEqualTo(1));
        assertThat(ids).hasSize(80);
        assertThat(ids.stream().distinct()).hasSize(10);
    }

    /**
     * Past 1,000 holes (jobs that left the queue between the head and a job) the position is an
     * upper bound, off by the holes beyond 1,000; it is exact at the head and never rises while the
     * queue drains.
     */
    @Test
    void queue_position_is_an_upper_bound_past_a_thousand_holes_and_never_rises_while_the_queue_drains() throws Exception {
        List<String> head = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            head.add(submit("t1"));
        }
        // 1,100 jobs behind them leave the queue (cancelled); 25 more queue up behind those.
        List<String> middle = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofVirtual().start(() -> {
                List<String> mine = new ArrayList<>();
                for (int i = 0; i < 275; i++) {
                    mine.add(submit("t1"));
                }
                mine.forEach(id -> store.cancel("t1", id));
                middle.addAll(mine);
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(middle).hasSize(1_100);
        List<String> ids = new ArrayList<>(head);
        for (int i = 0; i < 1_100; i++) {
            ids.add(null);
        }
        for (int i = 0; i < 25; i++) {
            ids.add(submit("t1"));
        }
        String last = ids.get(1_149);
        long exact = 49;
        long reported = view(last).queuePosition();
        assertThat(reported).isGreaterThanOrEqualTo(exact).isLessThanOrEqualTo(exact + 100);
        assertThat(view(ids.get(24)).queuePosition()).as("before the holes: exact").isEqualTo(24);

        long previous = reported;
        for (int i = 0; i < 49; i++) {
            claimOne();
            long now = view(last).queuePosition();
            assertThat(now).isLessThanOrEqualTo(previous);
            previous = now;
        }
        assertThat(view(last).queuePosition()).isZero();
    }
}
