package io.genqueue.store.postgres;

import io.genqueue.auth.ApiKey;
import io.genqueue.auth.KeyCache;
import io.genqueue.auth.KeyChange;
import io.genqueue.auth.KeyLimits;
import io.genqueue.auth.KeyStore;
import io.genqueue.auth.Keys;
import io.genqueue.auth.NewKey;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * API keys in the shared PostgreSQL database, as SHA-256 digests only.
 *
 * <p>A server's key store ({@link #beside}) caches the tenants of valid keys, so a request costs
 * no database round trip (a lookup per request was most of PostgreSQL's work under submit load).
 * A new key works everywhere at once (unknown digests are never cached). A revoked key is refused
 * at once by the process that revoked it, by every other process as soon as the revocation's
 * notification arrives (milliseconds), and by all of them within the poll interval even when
 * notifications are lost or off: the whole cache ({@link KeyCache}) is dropped at least once per
 * interval.
 */
public final class PostgresKeyStore implements KeyStore, AutoCloseable {

    private static final int OWN_POOL_SIZE = 2;
    /** The advisory lock that serialises first-key creation ("gqkey" in ASCII). */
    private static final long FIRST_KEY_LOCK = 0x67716b6579L;

    private final Jdbc jdbc;
    private final Clock clock;
    private final PostgresDatabase ownDatabase; // null when sharing the job store's pool
    private final long cacheNanos;              // 0: no cache (the command line)
    private final KeyCache<ApiKey> cache = new KeyCache<>();
    private static final String COLUMNS = "key_id, tenant, created_at, revoked_at, rate, burst, max_queued, daily_images, admin";
    private final AtomicLong revocationsHeard = new AtomicLong();

    /**
     * The cache's version: the revocations heard so far and the poll interval we are in, so the
     * cache is dropped by either, and never lives longer than one interval.
     */
    private record Version(long revocations, long interval) {
    }

    private PostgresKeyStore(Jdbc jdbc, Clock clock, PostgresDatabase ownDatabase, Duration cacheFor) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.ownDatabase = ownDatabase;
        this.cacheNanos = cacheFor.toNanos();
    }

    /** A key store with a small pool of its own (the command line); migrates the schema. */
    public static PostgresKeyStore open(PostgresConfig config, Clock clock) {
        PostgresDatabase db = PostgresDatabase.open(config.withPoolSize(Math.min(config.poolSize(), OWN_POOL_SIZE)), "genqueue-keys");
        return new PostgresKeyStore(new Jdbc(db.pool()), clock, db, Duration.ZERO);
    }

    /**
     * A key store on the job store's pool (the server), caching valid keys for at most the store's
     * poll interval and dropping them when another process announces a revocation. Closing it
     * leaves the pool open.
     */
    public static PostgresKeyStore beside(PostgresJobStore jobs) {
        PostgresKeyStore keys = new PostgresKeyStore(new Jdbc(jobs.database().pool()), jobs.clock(), null, jobs.pollInterval());
        jobs.onKeysRevoked(keys::dropCache);
        return keys;
    }

    @Override
    public NewKey create(String tenant, KeyLimits limits, boolean admin) {
        Keys.checkTenant(tenant);
        String secret = Keys.generate();
        ApiKey key = new ApiKey(Keys.idOf(secret), tenant, Instant.ofEpochMilli(clock.millis()), null, limits, admin);
        jdbc.autocommit(c -> Jdbc.update(c, "INSERT INTO api_keys (key_id, key_hash, tenant, created_at, rate, burst, max_queued, "
                + "daily_images, admin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", key.keyId(), Keys.hash(secret), tenant,
                key.createdAt().toEpochMilli(), limits.rate(), limits.burst(), limits.maxQueued(), limits.dailyImages(), admin));
        return new NewKey(key, secret);
    }

    /** Serialised by a transaction-scoped advisory lock, so the emptiness check sees other starts' keys. */
    @Override
    public Optional<NewKey> createFirst(String tenant) {
        Keys.checkTenant(tenant);
        String secret = Keys.generate();
        ApiKey key = new ApiKey(Keys.idOf(secret), tenant, Instant.ofEpochMilli(clock.millis()), null, KeyLimits.NONE, false);
        boolean made = jdbc.transaction(c -> {
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(" + FIRST_KEY_LOCK + ")")) {
                lock.execute();
            }
            return Jdbc.update(c, "INSERT INTO api_keys (key_id, key_hash, tenant, created_at) SELECT ?, ?, ?, ? "
                    + "WHERE NOT EXISTS (SELECT 1 FROM api_keys)", key.keyId(), Keys.hash(secret), tenant,
                    key.createdAt().toEpochMilli()) == 1;
        });
        return made ? Optional.of(new NewKey(key, secret)) : Optional.empty();
    }

    @Override
    public List<ApiKey> list() {
        return jdbc.autocommit(c -> {
            List<ApiKey> keys = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM api_keys ORDER BY created_at, key_id");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(toKey(rs));
                }
            }
            return keys;
        });
    }

    private static ApiKey toKey(ResultSet rs) throws java.sql.SQLException {
        Long revoked = Jdbc.nullableLong(rs, "revoked_at");
        return new ApiKey(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                revoked == null ? null : Instant.ofEpochMilli(revoked),
                new KeyLimits(rs.getDouble(5), rs.getInt(6), rs.getInt(7), rs.getInt(8)), rs.getBoolean(9));
    }

    /**
     * Reads the key under its row lock and writes the change in one transaction, which also tells
     * every server's key cache to drop its copy (as a revocation does).
     */
    @Override
    public Optional<ApiKey> update(String keyId, KeyChange change) {
        Optional<ApiKey> updated = jdbc.transaction(c -> {
            ApiKey key;
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT " + COLUMNS + " FROM api_keys WHERE key_id = ? FOR UPDATE", keyId);
                    ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.<ApiKey>empty();
                }
                key = toKey(rs);
            }
            KeyLimits limits = key.limits().with(change);
            boolean admin = change.admin() != null ? change.admin() : key.admin();
            Jdbc.update(c, "UPDATE api_keys SET rate = ?, burst = ?, max_queued = ?, daily_images = ?, admin = ? WHERE key_id = ?",
                    limits.rate(), limits.burst(), limits.maxQueued(), limits.dailyImages(), admin, keyId);
            ChangeFeed.notifyKeysRevoked(c);
            return Optional.of(new ApiKey(key.keyId(), key.tenant(), key.createdAt(), key.revokedAt(), limits, admin));
        });
        if (updated.isPresent()) {
            dropCache();
        }
        return updated;
    }

    /** Revokes the key and, in the same transaction, tells every server's key cache to drop it. */
    @Override
    public boolean revoke(String keyId) {
        boolean found = jdbc.transaction(c -> {
            if (Jdbc.update(c, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?", clock.millis(), keyId) != 1) {
                return false;
            }
            ChangeFeed.notifyKeysRevoked(c);
            return true;
        });
        if (found) {
            dropCache();
        }
        return found;
    }

    @Override
    public Optional<ApiKey> authenticate(String presentedKey) {
        if (presentedKey == null || !Keys.wellFormed(presentedKey)) {
            return Optional.empty();
        }
        String hash = Keys.hash(presentedKey);
        if (cacheNanos == 0) {
            return lookup(hash);
        }
        return cache.find(hash, new Version(revocationsHeard.get(), System.nanoTime() / cacheNanos), this::lookup);
    }

    /** Forgets every cached key: the next request of each looks it up again. */
    void dropCache() {
        revocationsHeard.incrementAndGet();
    }

    private Optional<ApiKey> lookup(String hash) {
        return jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT " + COLUMNS + " FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                    hash); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(toKey(rs)) : Optional.<ApiKey>empty();
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
