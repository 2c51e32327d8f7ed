package io.genqueue.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.generation.GenerationInput;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.SubmitOutcome;
import io.genqueue.testing.SettableClock;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A schema made by an earlier version keeps its queues when the store brings it up to date. */
class PostgresMigrationTest {

    private static final TestSchemas schemas = new TestSchemas();
    private final SettableClock clock = new SettableClock();

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }

    @Test
    void queued_jobs_keep_their_places_and_a_lane_numbers_on_from_its_old_counter() throws Exception {
        String url = schemas.newSchemaUrl();
        Flyway.configure().dataSource(TestSchemas.jdbcUrl(url), "postgres", null).locations("classpath:db/postgresql").target("1")
                .load().migrate();
        try (Connection c = TestSchemas.connect(url); Statement s = c.createStatement()) {
            // Version 1's state: a lane whose counter stands at 41, its last job still queued.
            s.execute("INSERT INTO queue_lanes (model, lane, last_ticket) VALUES ('nano_banana', 0, 41)");
            s.execute("INSERT INTO jobs (id, tenant, model, lane, ticket, state, input, run_after, created_at) VALUES "
                    + "('" + RequestIds.next(clock) + "', 't1', 'nano_banana', 0, 41, 'QUEUED', '{}', 0, 0)");
        }
        try (PostgresJobStore store = PostgresJobStore.open(PostgresConfig.of(url), clock)) {
            GenerationInput input = GenerationInput.builder("a prompt").build();
            NewJob job = NewJob.builder(RequestIds.next(clock), "t1", "nano_banana", input, clock.instant()).build();
            SubmitOutcome outcome = store.submit(job);
            assertThat(outcome).isInstanceOf(SubmitOutcome.Created.class);
            assertThat(((SubmitOutcome.Created) outcome).job().queuePosition()).as("behind the job from before").isEqualTo(1);
            try (Connection c = TestSchemas.connect(url); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT ticket FROM jobs WHERE id = '" + job.id() + "'")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the next ticket of the old counter").isEqualTo(42);
            }
        }
    }
}
