package io.genqueue.store.sqlite;

import io.genqueue.queue.JobStore;
import io.genqueue.testing.SettableClock;
import io.genqueue.webhook.WebhookOutbox;
import io.genqueue.webhook.WebhookOutboxContract;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The outbox contract on SQLite: one process, so the racing claimers are threads on one outbox. */
class SqliteWebhookOutboxTest extends WebhookOutboxContract {

    @TempDir
    Path dir;

    @Override
    protected JobStore openJobs(SettableClock clock) {
        return SqliteJobStore.open(SqliteDatabase.open(dir), clock, 2);
    }

    @Override
    protected WebhookOutbox outboxBeside(JobStore jobs) {
        return SqliteWebhookOutbox.beside((SqliteJobStore) jobs);
    }

    @Override
    protected WebhookOutbox anotherProcess() {
        return outbox;
    }
}
