package io.genqueue.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.blob.FsBlobStore;
import io.genqueue.generation.GenerationInput;
import io.genqueue.queue.Claim;
import io.genqueue.queue.JobState;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.StoreException;
import io.genqueue.queue.SubmitOutcome;
import io.genqueue.store.postgres.PostgresConfig;
import io.genqueue.store.postgres.PostgresJobStore;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.SettableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reaper across an outage of the shared database. Two stores on one schema stand for two
 * processes: one runs a job, the other's {@link Maintenance} reaps. The outage is made by renaming
 * the schema away (every statement fails, as when the database is down), and time is a settable
 * clock.
 */
class ReaperOutageTest {

    private static final TestSchemas schemas = new TestSchemas();
    private static final Duration LEASE = Duration.ofSeconds(3);

    private final SettableClock clock = new SettableClock();

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }

    @Test
    void a_lease_that_ran_out_during_an_outage_is_left_to_its_worker_to_renew_and_reaped_only_if_it_does_not(@TempDir Path dir) {
        String url = schemas.newSchemaUrl();
        String schema = TestSchemas.schemaOf(url);
        try (PostgresJobStore worker = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock);
                PostgresJobStore other = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock)) {
            GenerationInput input = GenerationInput.builder("a prompt").build();
            SubmitOutcome submitted = worker.submit(NewJob.builder(RequestIds.next(clock), "t1", "nano_banana", input, clock.instant())
                    .build());
            String id = ((SubmitOutcome.Created) submitted).job().id();
            Claim claim = worker.claim(1, LEASE).get(0); // its lease runs out at +3 s
            Maintenance reaper = new Maintenance(other, new FsBlobStore(dir), new RunningJobs(clock), clock,
                    new Maintenance.Settings(LEASE, 3, Duration.ofDays(7), Duration.ofMillis(250), Duration.ofMinutes(1)));

            TestSchemas.execute("ALTER SCHEMA " + schema + " RENAME TO " + schema + "_away");
            try {
                for (int second = 0; second <= 3; second++) { // the reaper's passes fail at +0 s .. +3 s
                    assertThatThrownBy(reaper::reap).isInstanceOf(StoreException.class);
                    clock.advance(Duration.ofSeconds(1));
                }
            } finally {
                TestSchemas.execute("ALTER SCHEMA " + schema + "_away RENAME TO " + schema);
            }

            // +4 s: the database is back. The lease ran out at +3 s, while its worker could not renew it either.
            reaper.reap();
            assertThat(state(other, id)).as("not reaped while its worker had no chance to renew").isEqualTo(JobState.RUNNING);
            assertThat(worker.renew(List.of(claim), LEASE)).as("the worker renews: to +7 s").isEmpty();

            clock.advance(Duration.ofSeconds(3)); // +7 s: the store has answered for a lease since the last failure
            reaper.reap();
            assertThat(state(other, id)).isEqualTo(JobState.RUNNING);

            clock.advance(Duration.ofSeconds(1)); // +8 s: the worker stopped renewing (it died)
            reaper.reap();
            assertThat(state(other, id)).as("a worker that does not renew loses its job").isEqualTo(JobState.QUEUED);
        }
    }

    private static JobState state(PostgresJobStore store, String id) {
        return store.find("t1", id).orElseThrow().state();
    }
}
