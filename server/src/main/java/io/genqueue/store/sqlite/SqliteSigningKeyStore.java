package io.genqueue.store.sqlite;

import io.genqueue.webhook.RotationPendingException;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.SigningKeyStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Webhook signing keys in the SQLite database. Every write goes through a writer, whose
 * transactions begin {@code IMMEDIATE}: the file's write lock serialises them against the server's
 * writer and any command line's, so "make the first key unless one is active" is one statement that
 * no other process can interleave with, and a rotation's check, retire and make is one unit.
 */
public final class SqliteSigningKeyStore implements SigningKeyStore, AutoCloseable {

    private static final String COLUMNS = "kid, private_key, public_key, created_at, signs_from, retired_at, published_until";

    private final SqliteWriter writer;
    private final SqliteReaders readers;
    private final Clock clock;
    private final boolean ownsConnections;

    private SqliteSigningKeyStore(SqliteWriter writer, SqliteReaders readers, Clock clock, boolean ownsConnections) {
        this.writer = writer;
        this.readers = readers;
        this.clock = clock;
        this.ownsConnections = ownsConnections;
    }

    /** A store with connections of its own (the command line). */
    public static SqliteSigningKeyStore open(SqliteDatabase db, Clock clock) {
        return new SqliteSigningKeyStore(new SqliteWriter(db, tx -> null), new SqliteReaders(db, 1), clock, true);
    }

    /** A store on the job store's connections (the server): one writer per database file. */
    public static SqliteSigningKeyStore beside(SqliteJobStore jobs) {
        return new SqliteSigningKeyStore(jobs.writer(), jobs.readers(), jobs.clock(), false);
    }

    @Override
    public SigningKey active() {
        Instant now = now();
        Optional<SigningKey> active = readActive(now);
        if (active.isPresent()) {
            return active.get();
        }
        SigningKey made = SigningKey.generate(now, now);
        writer.call(tx -> {
            PreparedStatement ps = tx.prepare("INSERT INTO webhook_signing_keys (" + COLUMNS + ") SELECT ?, ?, ?, ?, ?, NULL, NULL "
                    + "WHERE NOT EXISTS (SELECT 1 FROM webhook_signing_keys WHERE retired_at IS NULL)");
            bind(ps, made);
            return ps.executeUpdate();
        });
        // ours, or the one another process made first
        return readActive(now).orElseThrow(() -> new IllegalStateException("no webhook signing key signs at " + now));
    }

    @Override
    public SigningKey rotate(Duration lead, Duration grace) {
        Instant now = now();
        Instant from = now.plus(lead);
        SigningKey next = SigningKey.generate(now, from);
        writer.call(tx -> {
            if (lead.isPositive()) {
                PreparedStatement ahead = tx.prepare("SELECT kid, signs_from FROM webhook_signing_keys WHERE signs_from > ? LIMIT 1");
                ahead.setLong(1, now.toEpochMilli());
                try (ResultSet rs = ahead.executeQuery()) {
                    if (rs.next()) {
                        throw new RotationPendingException(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)));
                    }
                }
            }
            PreparedStatement retire = tx.prepare("UPDATE webhook_signing_keys SET retired_at = ?, published_until = ? "
                    + "WHERE retired_at IS NULL OR retired_at > ?");
            retire.setLong(1, from.toEpochMilli());
            retire.setLong(2, from.plus(grace).toEpochMilli());
            retire.setLong(3, from.toEpochMilli());
            retire.executeUpdate();
            PreparedStatement insert = tx.prepare("INSERT INTO webhook_signing_keys (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, NULL, NULL)");
            bind(insert, next);
            return insert.executeUpdate();
        });
        return next;
    }

    @Override
    public List<SigningKey> list() {
        return readers.read(r -> {
            List<SigningKey> keys = new ArrayList<>();
            try (ResultSet rs = r.prepare("SELECT " + COLUMNS + " FROM webhook_signing_keys "
                    + "ORDER BY retired_at IS NULL DESC, retired_at DESC, kid").executeQuery()) {
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

    private Optional<SigningKey> readActive(Instant now) {
        return readers.read(r -> {
            PreparedStatement ps = r.prepare("SELECT " + COLUMNS + " FROM webhook_signing_keys "
                    + "WHERE signs_from <= ?1 AND (retired_at IS NULL OR retired_at > ?1)");
            ps.setLong(1, now.toEpochMilli());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(key(rs)) : Optional.empty();
            }
        });
    }

    private Instant now() {
        return Instant.ofEpochMilli(clock.millis());
    }

    private static void bind(PreparedStatement ps, SigningKey key) throws java.sql.SQLException {
        ps.setString(1, key.kid());
        ps.setBytes(2, key.privateKey());
        ps.setBytes(3, key.x());
        ps.setLong(4, key.createdAt().toEpochMilli());
        ps.setLong(5, key.signsFrom().toEpochMilli());
    }

    private static SigningKey key(ResultSet rs) throws java.sql.SQLException {
        long retired = rs.getLong(6);
        Instant retiredAt = rs.wasNull() ? null : Instant.ofEpochMilli(retired);
        long until = rs.getLong(7);
        Instant publishedUntil = rs.wasNull() ? null : Instant.ofEpochMilli(until);
        return new SigningKey(rs.getString(1), rs.getBytes(2), rs.getBytes(3), Instant.ofEpochMilli(rs.getLong(4)),
                Instant.ofEpochMilli(rs.getLong(5)), retiredAt, publishedUntil);
    }

    @Override
    public void close() {
        if (ownsConnections) {
            writer.close();
            readers.close();
        }
    }
}
