package io.genqueue.store.sqlite;

import io.genqueue.queue.JobStore;
import io.genqueue.testing.SettableClock;
import io.genqueue.usage.UsageContract;
import io.genqueue.usage.UsageStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.io.TempDir;

/** The usage contract on SQLite. */
class SqliteUsageTest extends UsageContract {

    @TempDir
    Path dir;
    private SqliteDatabase db;

    @Override
    protected JobStore openJobs(SettableClock clock) {
        db = SqliteDatabase.open(dir);
        return SqliteJobStore.open(db, clock, 2);
    }

    @Override
    protected UsageStore usageBeside(JobStore jobs) {
        return SqliteUsageStore.beside((SqliteJobStore) jobs);
    }

    @Override
    protected void breakUsageWrites() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.file()); Statement s = c.createStatement()) {
            s.execute("CREATE TRIGGER usage_broken_insert BEFORE INSERT ON usage_counts BEGIN SELECT RAISE(ABORT, 'usage is broken'); END");
            s.execute("CREATE TRIGGER usage_broken_update BEFORE UPDATE ON usage_counts BEGIN SELECT RAISE(ABORT, 'usage is broken'); END");
        }
    }
}
