package io.genqueue.store.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Fresh schemas in the test database (PostgreSQL on 127.0.0.1:5432, database {@code test}, user
 * {@code postgres}, trust), one per store under test, so test classes can run in parallel. When
 * PostgreSQL does not answer the test fails: these tests are never skipped.
 */
public final class TestSchemas implements AutoCloseable {

    static final String HOST = "127.0.0.1:5432";
    private static final String ADMIN_URL = "jdbc:postgresql://" + HOST + "/test?user=postgres";

    private final List<String> created = new ArrayList<>();

    /** Creates an empty schema and returns a store URL whose connections use it. */
    public synchronized String newSchemaUrl() {
        String schema = "gq_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        execute("CREATE SCHEMA " + schema);
        created.add(schema);
        return "postgresql://postgres@" + HOST + "/test?currentSchema=" + schema;
    }

    /** The schema a store URL from {@link #newSchemaUrl} names. */
    public static String schemaOf(String url) {
        return url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
    }

    /** The JDBC URL of the same schema, for Flyway or a connection outside any store. */
    static String jdbcUrl(String url) {
        return ADMIN_URL + "&currentSchema=" + schemaOf(url);
    }

    /** A connection to the schema of a store URL, outside any store. */
    static Connection connect(String url) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(url));
    }

    /** Empties the store tables of a schema that a store has already migrated. */
    static void truncate(String url) {
        String schema = schemaOf(url);
        execute("TRUNCATE " + schema + ".jobs, " + schema + ".job_logs, " + schema + ".idempotency_keys, " + schema + ".queue_lanes, "
                + schema + ".api_keys, " + schema + ".tenant_live, " + schema + ".key_day_images, " + schema + ".key_buckets RESTART IDENTITY");
    }

    /** Runs SQL as the admin user (outside any store). */
    public static void execute(String sql) {
        try (Connection c = DriverManager.getConnection(ADMIN_URL); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new AssertionError("PostgreSQL at " + HOST + " (database test, user postgres) must be running for this test: "
                    + e.getMessage(), e);
        }
    }

    /** Drops every schema this made. */
    @Override
    public synchronized void close() {
        for (String schema : created) {
            execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
        created.clear();
    }
}
