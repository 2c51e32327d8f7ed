package io.genqueue.store.sqlite;

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
 * Usage in the SQLite database: table {@code usage_counts}, written by the {@code usage_submitted}
 * and {@code usage_ended} triggers on {@code jobs} (migration V6) in the statement that makes or
 * ends a job. This class only reads; each read is one snapshot.
 */
public final class SqliteUsageStore implements UsageStore, AutoCloseable {

    private final SqliteReaders readers;
    private final boolean ownsConnections;

    private SqliteUsageStore(SqliteReaders readers, boolean ownsConnections) {
        this.readers = readers;
        this.ownsConnections = ownsConnections;
    }

    /** Usage with a connection of its own (the command line), beside a running server or not. */
    public static SqliteUsageStore open(SqliteDatabase db) {
        return new SqliteUsageStore(new SqliteReaders(db, 1), true);
    }

    /** Usage on the job store's connections (the server). Closing it leaves them open. */
    public static SqliteUsageStore beside(SqliteJobStore jobs) {
        return new SqliteUsageStore(jobs.readers(), false);
    }

    @Override
    public List<UsageCount> counts(Optional<String> tenant, UsageRange range) {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare("SELECT tenant, day, model, outcome, error_type, provider, requests, images, provider_ms "
                    + "FROM usage_counts WHERE day BETWEEN ? AND ?" + (tenant.isPresent() ? " AND tenant = ?" : ""));
            ps.setLong(1, range.from().toEpochDay());
            ps.setLong(2, range.to().toEpochDay());
            if (tenant.isPresent()) {
                ps.setString(3, tenant.get());
            }
            List<UsageCount> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new UsageCount(rs.getString(1), LocalDate.ofEpochDay(rs.getLong(2)), rs.getString(3),
                            UsageCount.Counted.valueOf(rs.getString(4)), rs.getString(5), rs.getString(6), rs.getLong(7),
                            rs.getLong(8), rs.getLong(9)));
                }
            }
            return out;
        });
    }

    @Override
    public void close() {
        if (ownsConnections) {
            readers.close();
        }
    }
}
