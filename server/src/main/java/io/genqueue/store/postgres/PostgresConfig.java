package io.genqueue.store.postgres;

import java.time.Duration;

/**
 * How to reach the PostgreSQL database that the processes of a deployment share.
 *
 * @param url {@code postgresql://user[:password]@host[:port]/db[?params]} (also {@code postgres://})
 *     or {@code jdbc:postgresql://host[:port]/db[?params]}; {@code currentSchema=} picks a schema
 * @param poolSize connections in the pool (each process; the listener and the submit writer come on top)
 * @param pollInterval how often the store wakes its listeners to look for work even without a
 *     notification: the fallback for a lost one, and the only wake-up with {@code pollOnly}
 * @param pollOnly no LISTEN connection: other processes' submits are seen by polling only, and a
 *     cancel of a job running here is seen at the next lease renewal
 * @param runsJobs whether this process claims jobs: only then does it listen for other processes'
 *     "work available" notifications (one per submit group: an API-only process would only
 *     receive and drop them)
 */
public record PostgresConfig(String url, int poolSize, Duration pollInterval, boolean pollOnly, boolean runsJobs) {

    public static final int DEFAULT_POOL_SIZE = 10;
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

    public PostgresConfig {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("a PostgreSQL URL is required");
        }
        if (poolSize < 1) {
            throw new IllegalArgumentException("poolSize < 1: " + poolSize);
        }
        if (pollInterval == null || pollInterval.toMillis() < 10) {
            throw new IllegalArgumentException("pollInterval must be at least 10 ms: " + pollInterval);
        }
    }

    /** The defaults: a pool of {@value #DEFAULT_POOL_SIZE}, LISTEN plus polling every second, runs jobs. */
    public static PostgresConfig of(String url) {
        return new PostgresConfig(url, DEFAULT_POOL_SIZE, DEFAULT_POLL_INTERVAL, false, true);
    }

    public PostgresConfig withPollInterval(Duration interval) {
        return new PostgresConfig(url, poolSize, interval, pollOnly, runsJobs);
    }

    public PostgresConfig withPollOnly(boolean only) {
        return new PostgresConfig(url, poolSize, pollInterval, only, runsJobs);
    }

    public PostgresConfig withPoolSize(int size) {
        return new PostgresConfig(url, size, pollInterval, pollOnly, runsJobs);
    }

    public PostgresConfig withRunsJobs(boolean runs) {
        return new PostgresConfig(url, poolSize, pollInterval, pollOnly, runs);
    }

    /** The URL without its password, for logs and messages. */
    @Override
    public String toString() {
        return "PostgresConfig[url=" + PostgresUrl.parse(url).redacted() + ", poolSize=" + poolSize + ", pollInterval="
                + pollInterval + ", pollOnly=" + pollOnly + ", runsJobs=" + runsJobs + "]";
    }
}
