package io.genqueue.store.postgres;

import io.genqueue.webhook.RotationPendingException;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.SigningKeyStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Webhook signing keys in the shared PostgreSQL database, so every process signs with the same
 * key. Making the first key and rotating take one transaction-scoped advisory lock: the second of
 * two processes starting together waits for the first's commit, then (read committed, a fresh
 * snapshot per statement) sees its key and makes none; two rotations retire and make one after the
 * other. The unique index on the active key backs this up in the schema.
 */
public final class PostgresSigningKeyStore implements SigningKeyStore, AutoCloseable {

    private static final int OWN_POOL_SIZE = 2;
    /** The advisory lock that serialises making and rotating signing keys ("gqsig" in ASCII). */
    private static final long SIGNING_KEY_LOCK = 0x6771736967L;
    private static final String COLUMNS = "kid, private_key, public_key, created_at, signs_from, retired_at, published_until";

    private final Jdbc jdbc;
    private final Clock clock;
    private final PostgresDatabase ownDatabase; // null when sharing the job store's pool

    private PostgresSigningKeyStore(Jdbc jdbc, Clock clock, PostgresDatabase ownDatabase) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.ownDatabase = ownDatabase;
    }

    /** A store with a small pool of its own (the command line); migrates the schema. */
    public static PostgresSigningKeyStore open(PostgresConfig config, Clock clock) {
        PostgresDatabase db = PostgresDatabase.open(config.withPoolSize(Math.min(config.poolSize(), OWN_POOL_SIZE)), "genqueue-signing-keys");
        return new PostgresSigningKeyStore(new Jdbc(db.pool()), clock, db);
    }

    /** A store on the job store's pool (the server). Closing it leaves the pool open. */
    public static PostgresSigningKeyStore beside(PostgresJobStore jobs) {
        return new PostgresSigningKeyStore(new Jdbc(jobs.database().pool()), jobs.clock(), null);
    }

    @Override
    public SigningKey active() {
        Instant now = now();
        Optional<SigningKey> active = jdbc.autocommit(c -> readActive(c, now));
        if (active.isPresent()) {
            return active.get();
        }
        SigningKey made = SigningKey.generate(now, now);
        return jdbc.transaction(c -> {
            lock(c);
            Jdbc.update(c, "INSERT INTO webhook_signing_keys (" + COLUMNS + ") SELECT ?, ?, ?, ?, ?, NULL, NULL "
                    + "WHERE NOT EXISTS (SELECT 1 FROM webhook_signing_keys WHERE retired_at IS NULL)",
                    made.kid(), made.privateKey(), made.x(), made.createdAt().toEpochMilli(), made.signsFrom().toEpochMilli());
            // ours, or the one another process made before we had the lock
            return readActive(c, now).orElseThrow(() -> new IllegalStateException("no webhook signing key signs at " + now));
        });
    }

    @Override
    public SigningKey rotate(Duration lead, Duration grace) {
        Instant now = now();
        Instant from = now.plus(lead);
        SigningKey next = SigningKey.generate(now, from);
        jdbc.transaction(c -> {
            lock(c);
            if (lead.isPositive()) {
                try (PreparedStatement ps = Jdbc.prepare(c, "SELECT kid, signs_from FROM webhook_signing_keys WHERE signs_from > ? LIMIT 1",
                        now.toEpochMilli()); ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        throw new RotationPendingException(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)));
                    }
                }
            }
            Jdbc.update(c, "UPDATE webhook_signing_keys SET retired_at = ?, published_until = ? WHERE retired_at IS NULL OR retired_at > ?",
                    from.toEpochMilli(), from.plus(grace).toEpochMilli(), from.toEpochMilli());
            return Jdbc.update(c, "INSERT INTO webhook_signing_keys (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                    next.kid(), next.privateKey(), next.x(), next.createdAt().toEpochMilli(), next.signsFrom().toEpochMilli());
        });
        return next;
    }

    @Override
    public List<SigningKey> list() {
        return jdbc.autocommit(c -> {
            List<SigningKey> keys = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM webhook_signing_keys "
                    + "ORDER BY retired_at IS NULL DESC, retired_at DESC, kid");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(key(rs));
                }
            }
            return keys;
        });
    }

    @Override
    public List<SigningKey> published() {
        List<SigningKey> keys = list();
        if (keys.isEmpty() || keys.get(0).retired()) {
            active();
            keys = list();
        }
        Instant now = now();
        return keys.stream().filter(k -> k.publishedAt(now)).toList();
    }

    private static void lock(Connection c) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(" + SIGNING_KEY_LOCK + ")")) {
            lock.execute();
        }
    }

    private static Optional<SigningKey> readActive(Connection c, Instant now) throws SQLException {
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT " + COLUMNS + " FROM webhook_signing_keys "
                + "WHERE signs_from <= ? AND (retired_at IS NULL OR retired_at > ?)", now.toEpochMilli(), now.toEpochMilli());
                ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(key(rs)) : Optional.empty();
        }
    }

    private Instant now() {
        return Instant.ofEpochMilli(clock.millis());
    }

    private static SigningKey key(ResultSet rs) throws SQLException {
        Long retired = Jdbc.nullableLong(rs, "retired_at");
        Long until = Jdbc.nullableLong(rs, "published_until");
        return new SigningKey(rs.getString("kid"), rs.getBytes("private_key"), rs.getBytes("public_key"),
                Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("signs_from")), retired == null ? null : Instant.ofEpochMilli(retired),
                until == null ? null : Instant.ofEpochMilli(until));
    }

    @Override
    public void close() {
        if (ownDatabase != null) {
            ownDatabase.close();
        }
    }
}
