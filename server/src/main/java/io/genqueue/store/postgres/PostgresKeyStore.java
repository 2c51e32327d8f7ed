package io.genqueue.store.postgres;

import io.genqueue.auth.ApiKey;
import io.genqueue.auth.KeyCache;
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
    private final KeyCache cache = new KeyCache();
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
    public NewKey create(String tenant) {
        Keys.checkTenant(tenant);
        String secret = Keys.generate();
        ApiKey key = new ApiKey(Keys.idOf(secret), tenant, Instant.ofEpochMilli(clock.millis()), null);
        jdbc.autocommit(c -> Jdbc.update(c, "INSERT INTO api_keys (key_id, key_hash, tenant, created_at) VALUES (?, ?, ?, ?)",
                key.keyId(), Keys.hash(secret), tenant, key.createdAt().toEpochMilli()));
        return new NewKey(key, secret);
    }

    /** Serialised by a transaction-scoped advisory lock, so the emptiness check sees other starts' keys. */
    @Override
    public Optional<NewKey> createFirst(String tenant) {
        Keys.checkTenant(tenant);
        String secret = Keys.generate();
        ApiKey key = new ApiKey(Keys.idOf(secret), tenant, Instant.ofEpochMilli(clock.millis()), null);
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
            try (PreparedStatement ps = c.prepareStatement("SELECT key_id, tenant, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Long revoked = Jdbc.nullableLong(rs, "revoked_at");
                    keys.add(new ApiKey(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                            revoked == null ? null : Instant.ofEpochMilli(revoked)));
                }
            }
            return keys;
        });
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
    public Optional<String> tenantOf(String presentedKey) {
        if (presentedKey == null || !Keys.wellFormed(presentedKey)) {
            return Optional.empty();
        }
        String hash = Keys.hash(presentedKey);
        if (cacheNanos == 0) {
            return lookup(hash);
        }
        return cache.tenant(hash, new Version(revocationsHeard.get(), System.nanoTime() / cacheNanos), this::lookup);
    }

    /** Forgets every cached key: the next request of each looks it up again. */
    void dropCache() {
        revocationsHeard.incrementAndGet();
    }

    private Optional<String> lookup(String hash) {
        return jdbc.autocommit(c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT tenant FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", hash);
                    ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
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
