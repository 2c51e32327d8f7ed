package io.genqueue.store.sqlite;

import io.genqueue.queue.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;

/**
 * The SQLite file under the data directory: opens connections with the right settings and brings
 * the schema up to date with Flyway.
 *
 * <p>WAL mode lets readers run beside the one writer. The writer uses {@code synchronous=FULL}: a
 * commit returns only after the WAL is flushed to disk, which is what lets a 200 from submit mean
 * "durable"; the writer amortises that flush over many requests (see {@link SqliteWriter}).
 */
public final class SqliteDatabase {

    static final String FILE_NAME = "genqueue.db";
    private static final int BUSY_TIMEOUT_MS = 10_000;

    private final Path file;
    private final String url;

    private SqliteDatabase(Path file) {
        this.file = file;
        this.url = "jdbc:sqlite:" + file.toAbsolutePath();
    }

    /** Opens (creating if needed) the database in {@code dataDir} and migrates its schema. */
    public static SqliteDatabase open(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StoreException("cannot create data directory " + dataDir + ": " + e.getMessage(), e);
        }
        SqliteDatabase db = new SqliteDatabase(dataDir.resolve(FILE_NAME));
        db.migrate();
        return db;
    }

    public Path file() {
        return file;
    }

    private void migrate() {
        // Flyway needs WAL set before it opens its own connection, or two processes could race to
        // create the file in rollback-journal mode.
        try (Connection c = openWriter()) {
            c.isValid(1);
        } catch (SQLException e) {
            throw new StoreException("cannot open " + file + ": " + e.getMessage(), e);
        }
        try {
            Flyway.configure()
                    .dataSource(url, "", "")
                    .locations("classpath:db/sqlite")
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            throw new StoreException("cannot migrate " + file + ": " + e.getMessage(), e);
        }
    }

    /** A connection for the one writer: autocommit on (transactions are opened explicitly). */
    Connection openWriter() throws SQLException {
        SQLiteConfig config = baseConfig();
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        return config.createConnection(url);
    }

    /** A connection that can only read. */
    Connection openReader() throws SQLException {
        Connection c = baseConfig().createConnection(url);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA query_only = 1");
        }
        return c;
    }

    private static SQLiteConfig baseConfig() {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        config.setTempStore(SQLiteConfig.TempStore.MEMORY);
        return config;
    }
}
