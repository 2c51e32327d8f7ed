package io.genqueue.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.genqueue.queue.StoreException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The shared database: a HikariCP pool, the schema brought up to date with Flyway (its own
 * location, {@code db/postgresql}; Flyway's advisory lock lets processes start at once), and plain
 * connections for the LISTEN session, which must not be recycled by the pool.
 */
final class PostgresDatabase implements AutoCloseable {

    private static final long CONNECT_TIMEOUT_MS = 10_000;

    private final PostgresUrl url;
    private final HikariDataSource pool;

    private PostgresDatabase(PostgresUrl url, HikariDataSource pool) {
        this.url = url;
        this.pool = pool;
    }

    /** Opens a pool of {@code poolSize} connections and migrates the schema. */
    static PostgresDatabase open(PostgresConfig config, String poolName) {
        PostgresUrl url = PostgresUrl.parse(config.url());
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(url.jdbcUrl());
        hikari.setDataSourceProperties(driverProperties(url));
        if (url.user() != null) {
            hikari.setUsername(url.user());
        }
        if (url.password() != null) {
            hikari.setPassword(url.password());
        }
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setMinimumIdle(Math.min(2, config.poolSize()));
        hikari.setConnectionTimeout(CONNECT_TIMEOUT_MS);
        hikari.setPoolName(poolName);
        hikari.setInitializationFailTimeout(1); // one attempt (bounded by connectTimeout): a clear error at start, not a wait
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new StoreException("cannot connect to PostgreSQL at " + url.redacted() + ": " + rootMessage(e), e);
        }
        PostgresDatabase db = new PostgresDatabase(url, pool);
        try {
            Flyway.configure()
                    .dataSource(pool)
                    .locations("classpath:db/postgresql")
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw new StoreException("cannot migrate the PostgreSQL schema at " + url.redacted() + ": " + rootMessage(e), e);
        }
        return db;
    }

    DataSource pool() {
        return pool;
    }

    /** A connection outside the pool (for LISTEN), autocommit on. */
    Connection openDedicated() throws SQLException {
        return DriverManager.getConnection(url.jdbcUrl(), driverProperties(url));
    }

    String describe() {
        return url.redacted();
    }

    private static Properties driverProperties(PostgresUrl url) {
        Properties props = url.properties();
        // A batch of inserts (a submit group, log lines) goes over as multi-row INSERTs.
        props.setProperty("reWriteBatchedInserts", "true");
        props.setProperty("ApplicationName", "genqueue");
        props.setProperty("connectTimeout", String.valueOf(CONNECT_TIMEOUT_MS / 1000));
        props.setProperty("tcpKeepAlive", "true"); // a LISTEN session that only reads must notice a dead peer
        return props;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }

    @Override
    public void close() {
        pool.close();
    }
}
