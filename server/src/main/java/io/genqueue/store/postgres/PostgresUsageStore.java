package io.genqueue.store.postgres;

import io.genqueue.usage.UsageCount;
import io.genqueue.usage.UsageRange;
import io.genqueue.usage.UsageStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Usage in the shared PostgreSQL database: table {@code usage_counts}, written by the
 * {@code usage_submitted} (once per inserting statement) and {@code usage_ended} (once per job
 * reaching a final state) triggers on {@code jobs} (migration V6). Each key is spread over shards
 * so that writers of different connections seldom wait for each other's commit; this sums them,
 * in one statement, so one snapshot.
 */
public final class PostgresUsageStore implements UsageStore, AutoCloseable {

    private static final int OWN_POOL_SIZE = 2; // migrating takes two

    private final Jdbc jdbc;
    private final PostgresDatabase ownDatabase; // null when sharing the job store's pool

    private PostgresUsageStore(Jdbc jdbc, PostgresDatabase ownDatabase) {
        this.jdbc = jdbc;
        this.ownDatabase = ownDatabase;
    }

    /** Usage with a small pool of its own (the command line); migrates the schema. */
    public static PostgresUsageStore open(PostgresConfig config) {
        PostgresDatabase db = PostgresDatabase.open(config.withPoolSize(OWN_POOL_SIZE), "genqueue-usage");
        return new PostgresUsageStore(new Jdbc(db.pool()), db);
    }

    /** Usage on the job store's pool (the server). Closing it leaves the pool open. */
    public static PostgresUsageStore beside(PostgresJobStore jobs) {
        return new PostgresUsageStore(new Jdbc(jobs.database().pool()), null);
    }

    @Override
    public List<UsageCount> counts(Optional<String> tenant, UsageRange range) {
        return jdbc.autocommit(c -> {
            String sql = "SELECT tenant, day, model, outcome, error_type, provider, sum(requests), sum(images), sum(provider_ms) "
                    + "FROM usage_counts WHERE day BETWEEN ? AND ?" + (tenant.isPresent() ? " AND tenant = ?" : "")
                    + " GROUP BY tenant, day, model, outcome, error_type, provider";
            Object[] params = tenant.isPresent()
                    ? new Object[] {(int) range.from().toEpochDay(), (int) range.to().toEpochDay(), tenant.get()}
                    : new Object[] {(int) range.from().toEpochDay(), (int) range.to().toEpochDay()};
            try (PreparedStatement ps = Jdbc.prepare(c, sql, params);
                    ResultSet rs = ps.executeQuery()) {
                List<UsageCount> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new UsageCount(rs.getString(1), LocalDate.ofEpochDay(rs.getLong(2)), rs.getString(3),
                            UsageCount.Counted.valueOf(rs.getString(4)), rs.getString(5), rs.getString(6), rs.getLong(7),
                            rs.getLong(8), rs.getLong(9)));
                }
                return out;
            }
        });
    }

    @Override
    public void close() {
        if (ownDatabase != null) {
            ownDatabase.close();
        }
    }
}
