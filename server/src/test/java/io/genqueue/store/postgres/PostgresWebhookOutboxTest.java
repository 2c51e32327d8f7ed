package io.genqueue.store.postgres;

import io.genqueue.queue.JobStore;
import io.genqueue.testing.SettableClock;
import io.genqueue.webhook.WebhookOutbox;
import io.genqueue.webhook.WebhookOutboxContract;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;

/** The outbox contract on PostgreSQL, each test on a schema of its own; racing claimers are processes' job stores. */
class PostgresWebhookOutboxTest extends WebhookOutboxContract {

    private static final TestSchemas schemas = new TestSchemas();
    private String url;
    private final List<PostgresJobStore> others = new CopyOnWriteArrayList<>();

    @Override
    protected JobStore openJobs(SettableClock clock) {
        url = schemas.newSchemaUrl();
        return PostgresJobStore.open(PostgresConfig.of(url), clock);
    }

    @Override
    protected WebhookOutbox outboxBeside(JobStore jobs) {
        return PostgresWebhookOutbox.beside((PostgresJobStore) jobs);
    }

    @Override
    protected WebhookOutbox anotherProcess() {
        PostgresJobStore other = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock);
        others.add(other);
        return PostgresWebhookOutbox.beside(other);
    }

    @AfterEach
    void closeOthers() {
        others.forEach(PostgresJobStore::close);
    }

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }
}
