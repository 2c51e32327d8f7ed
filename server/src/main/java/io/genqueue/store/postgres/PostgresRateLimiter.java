package io.genqueue.store.postgres;

import io.genqueue.auth.ApiKey;
import io.genqueue.limit.RateLimiter;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The token buckets of a deployment of many processes: one row per key with a rate
 * ({@code key_buckets}), shared by every process, so a key gets its rate across the cluster
 * however its requests are spread, not its rate once per process. A take is one conditional
 * upsert (refill since the row's time, up to the burst, then minus one token, only if a whole
 * token is there); the row lock orders racing takes, and it commits without waiting for the WAL
 * flush (a crash at worst hands a few tokens back). Only keys with a rate come here: a request of
 * a key without one costs nothing.
 *
 * <p>Times are the taking process's clock; processes whose clocks differ by d see a bucket up to
 * d late or early, never more than the burst.
 */
public final class PostgresRateLimiter implements RateLimiter {

    private final Jdbc jdbc;
    private final Clock clock;

    private PostgresRateLimiter(Jdbc jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /** The buckets of the job store's database, on its pool and clock. */
    public static PostgresRateLimiter beside(PostgresJobStore jobs) {
        return new PostgresRateLimiter(new Jdbc(jobs.database().pool()), jobs.clock());
    }

    @Override
    public Optional<Duration> acquire(ApiKey key) {
        double rate = key.limits().rate();
        if (rate <= 0) {
            return Optional.empty();
        }
        int burst = key.limits().burst();
        long now = clock.millis();
        Double left = jdbc.transaction(c -> {
            Jdbc.update(c, "SET LOCAL synchronous_commit TO OFF");
            try (PreparedStatement ps = Jdbc.prepare(c, "INSERT INTO key_buckets AS b (key_id, tokens, at) VALUES (?, ?, ?) "
                    + "ON CONFLICT (key_id) DO UPDATE SET "
                    + "tokens = LEAST(?, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * ? / 1000.0) - 1, at = GREATEST(b.at, EXCLUDED.at) "
                    + "WHERE LEAST(?, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * ? / 1000.0) >= 1 RETURNING tokens",
                    key.keyId(), (double) burst - 1, now, (double) burst, rate, (double) burst, rate);
                    ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return null; // taken
                }
            }
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT LEAST(?, tokens + GREATEST(0, ? - at) * ? / 1000.0) FROM key_buckets "
                    + "WHERE key_id = ?", (double) burst, now, rate, key.keyId()); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getDouble(1) : 0.0;
            }
        });
        if (left == null) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofMillis(Math.max(1, (long) Math.ceil((1 - left) * 1000.0 / rate))));
    }
}
