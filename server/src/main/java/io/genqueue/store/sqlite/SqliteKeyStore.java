package io.genqueue.store.sqlite;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * API keys in the SQLite database. Works beside a running server: the command line opens its own
 * connections, and the server caches valid keys as of the revocation stamp, which it reads (one
 * {@code stat}) on every request, so a key created or revoked from the command line takes effect
 * at once.
 */
public final class SqliteKeyStore implements KeyStore, AutoCloseable {

    private final SqliteWriter writer;
    private final SqliteReaders readers;
    private final Clock clock;
    private final boolean ownsConnections;
    private final RevocationStamp stamp;
    private final KeyCache<ApiKey> cache = new KeyCache<>(); // as of the revocation stamp

    private static final String COLUMNS = "key_id, tenant, created_at, revoked_at, rate, burst, max_queued, daily_images, admin";

    private SqliteKeyStore(SqliteDatabase db, SqliteWriter writer, SqliteReaders readers, Clock clock, boolean ownsConnections) {
        this.writer = writer;
        this.readers = readers;
        this.clock = clock;
        this.ownsConnections = ownsConnections;
        this.stamp = new RevocationStamp(db.file());
    }

    /** A key store with connections of its own (the command line). */
    public static SqliteKeyStore open(SqliteDatabase db, Clock clock) {
        return new SqliteKeyStore(db, new SqliteWriter(db, tx -> null), new SqliteReaders(db, 1), clock, true);
    }

    /** A key store on the job store's connections (the server): one writer per database file. */
    public static SqliteKeyStore beside(SqliteJobStore jobs) {
        return new SqliteKeyStore(jobs.database(), jobs.writer(), jobs.readers(), jobs.clock(), false);
    }

    @Override
    public NewKey create(String tenant, KeyLimits limits, boolean admin) {
        Keys.checkTenant(tenant);
        String secret = Keys.generate();
        ApiKey key = new ApiKey(Keys.idOf(secret), tenant, Instant.ofEpochMilli(clock.millis()), null, limits, admin);
        writer.call(tx -> {
            PreparedStatement ps = tx.prepare("INSERT INTO api_keys (key_id, key_hash, tenant, created_at, rate, burst, max_queued, "
                    + "daily_images, admin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
            ps.setString(1, key.keyId());
            ps.setString(2, Keys.hash(secret));
            ps.setString(3, tenant);
            ps.setLong(4, key.createdAt().toEpochMilli());
            ps.setDouble(5, limits.rate());
            ps.setInt(6, limits.burst());
            ps.setInt(7, limits.maxQueued());
            ps.setInt(8, limits.dailyImages());
            ps.setInt(9, admin ? 1 : 0);
            return ps.executeUpdate();
        });
        return new NewKey(key, secret);
    }

    @Override
    public Optional<NewKey> createFirst(String tenant) {
        Keys.checkTenant(tenant);
        String secret = Keys.generate();
        ApiKey key = new ApiKey(Keys.idOf(secret), tenant, Instant.ofEpochMilli(clock.millis()), null, KeyLimits.NONE, false);
        int made = writer.call(tx -> { // the one writer serialises this against every other write
            PreparedStatement ps = tx.prepare("INSERT INTO api_keys (key_id, key_hash, tenant, created_at) SELECT ?, ?, ?, ? "
                    + "WHERE NOT EXISTS (SELECT 1 FROM api_keys)");
            ps.setString(1, key.keyId());
            ps.setString(2, Keys.hash(secret));
            ps.setString(3, tenant);
            ps.setLong(4, key.createdAt().toEpochMilli());
            return ps.executeUpdate();
        });
        return made == 1 ? Optional.of(new NewKey(key, secret)) : Optional.empty();
    }

    @Override
    public List<ApiKey> list() {
        return readers.read(r -> {
            List<ApiKey> keys = new ArrayList<>();
            try (ResultSet rs = r.prepare("SELECT " + COLUMNS + " FROM api_keys ORDER BY created_at, key_id").executeQuery()) {
                while (rs.next()) {
                    keys.add(toKey(rs));
                }
            }
            return keys;
        });
    }

    private static ApiKey toKey(ResultSet rs) throws java.sql.SQLException {
        long revoked = rs.getLong(4);
        Instant revokedAt = rs.wasNull() ? null : Instant.ofEpochMilli(revoked); // before any other getter
        return new ApiKey(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)), revokedAt,
                new KeyLimits(rs.getDouble(5), rs.getInt(6), rs.getInt(7), rs.getInt(8)), rs.getInt(9) == 1);
    }

    /** One writer unit reads the key and writes the change; the stamp then ends every cache's copy, as a revocation does. */
    @Override
    public Optional<ApiKey> update(String keyId, KeyChange change) {
        Optional<ApiKey> updated = writer.call(tx -> {
            PreparedStatement read = tx.prepare("SELECT " + COLUMNS + " FROM api_keys WHERE key_id = ?");
            read.setString(1, keyId);
            ApiKey key;
            try (ResultSet rs = read.executeQuery()) {
                if (!rs.next()) {
                    return Optional.<ApiKey>empty();
                }
                key = toKey(rs);
            }
            KeyLimits limits = key.limits().with(change);
            boolean admin = change.admin() != null ? change.admin() : key.admin();
            PreparedStatement ps = tx.prepare("UPDATE api_keys SET rate = ?, burst = ?, max_queued = ?, daily_images = ?, admin = ? "
                    + "WHERE key_id = ?");
            ps.setDouble(1, limits.rate());
            ps.setInt(2, limits.burst());
            ps.setInt(3, limits.maxQueued());
            ps.setInt(4, limits.dailyImages());
            ps.setInt(5, admin ? 1 : 0);
            ps.setString(6, keyId);
            ps.executeUpdate();
            return Optional.of(new ApiKey(key.keyId(), key.tenant(), key.createdAt(), key.revokedAt(), limits, admin));
        });
        if (updated.isPresent()) {
            stamp.bump();
        }
        return updated;
    }

    @Override
    public boolean revoke(String keyId) {
        boolean found = writer.call(tx -> {
            PreparedStatement ps = tx.prepare("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?");
            ps.setLong(1, clock.millis());
            ps.setString(2, keyId);
            return ps.executeUpdate() == 1;
        });
        if (found) {
            stamp.bump(); // after the commit: every key cache on this database is stale from now on
        }
        return found;
    }

    @Override
    public Optional<ApiKey> authenticate(String presentedKey) {
        if (presentedKey == null || !Keys.wellFormed(presentedKey)) {
            return Optional.empty();
        }
        return cache.find(Keys.hash(presentedKey), stamp.read(), this::lookup);
    }

    private Optional<ApiKey> lookup(String hash) {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare("SELECT " + COLUMNS + " FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL");
            ps.setString(1, hash);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(toKey(rs)) : Optional.<ApiKey>empty();
            }
        });
    }


    @Override
    public void close() {
        if (ownsConnections) {
            writer.close();
            readers.close();
        }
    }
}
