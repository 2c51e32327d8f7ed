package io.genqueue.store.postgres;

import io.genqueue.queue.JobStore;
import io.genqueue.testing.SettableClock;
import io.genqueue.usage.UsageContract;
import io.genqueue.usage.UsageStore;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;

/** The usage contract on PostgreSQL, each test on a schema of its own. */
class PostgresUsageTest extends UsageContract {

    private static final TestSchemas schemas = new TestSchemas();
    private String url;

    @Override
    protected JobStore openJobs(SettableClock clock) {
        url = schemas.newSchemaUrl();
        return PostgresJobStore.open(PostgresConfig.of(url), clock);
    }

    @Override
    protected UsageStore usageBeside(JobStore jobs) {
        return PostgresUsageStore.beside((PostgresJobStore) jobs);
    }

    @Override
    protected void breakUsageWrites() throws Exception {
        try (Connection c = TestSchemas.connect(url); Statement s = c.createStatement()) {
            s.execute("ALTER TABLE usage_counts ADD CONSTRAINT usage_broken CHECK (false) NOT VALID");
        }
    }

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }
}
