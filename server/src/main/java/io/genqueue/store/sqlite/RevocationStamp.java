package io.genqueue.store.sqlite;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * A file beside the database whose modification time changes whenever a key is revoked, by any
 * process on this data directory (the server, or {@code keys revoke} run beside it). Reading it is
 * one {@code stat}, far cheaper than a query, so a key cache can check it on every request and
 * revocation stays immediate.
 *
 * <p>Each revocation sets the time explicitly to a value later than the one it read (by at least a
 * microsecond), so two revocations within the file system's clock tick still differ.
 */
final class RevocationStamp {

    private static final FileTime NEVER = FileTime.fromMillis(0);

    private final Path file;

    RevocationStamp(Path databaseFile) {
        this.file = databaseFile.resolveSibling(databaseFile.getFileName() + ".revoked");
        try {
            Files.createFile(file); // so that reading it, on every request, never throws
        } catch (FileAlreadyExistsException expected) {
            // made by an earlier start or another process
        } catch (IOException e) {
            // a read-only data directory: read() answers NEVER until a revocation makes the file
        }
    }

    /**
     * The current stamp; {@code NEVER} before the file exists. The constructor makes the file, so
     * the request path takes no exception here: an exception's stack trace cost more than the
     * {@code stat} itself (found in a profile of status reads).
     */
    FileTime read() {
        try {
            return Files.getLastModifiedTime(file);
        } catch (NoSuchFileException e) {
            return NEVER;
        } catch (IOException e) {
            return FileTime.from(Instant.now()); // unreadable: treat as changed, so the cache is not trusted
        }
    }

    /** Marks a revocation; called after it committed. */
    synchronized void bump() {
        try {
            if (!Files.exists(file)) {
                Files.createFile(file);
            }
            Instant previous = read().toInstant();
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            Instant next = now.isAfter(previous) ? now : previous.plus(1, ChronoUnit.MICROS);
            Files.setLastModifiedTime(file, FileTime.from(next));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot mark the revocation in " + file + ": " + e.getMessage(), e);
        }
    }
}
