package io.genqueue.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The data directory. With SQLite it is a one-process deployment's whole state, and the server
 * holds an exclusive lock on it for its whole life (two servers on one SQLite file would each think
 * they own every running job). With PostgreSQL it holds only images (unless they are in S3) and the
 * generated link-signing secret, and processes on one host may share it, so it is not locked.
 */
final class DataDir implements AutoCloseable {

    private static final String LOCK_FILE = "genqueue.lock";
    private static final String SECRET_FILE = "link-secret";

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDir(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws IllegalStateException when another server holds the directory */
    static DataDir lock(Path dir) {
        try {
            Files.createDirectories(dir);
            FileChannel channel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                channel.close();
                throw new IllegalStateException("another genqueue server is using the data directory " + dir.toAbsolutePath()
                        + "; stop it or choose another --data-dir");
            }
            return new DataDir(dir, channel, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the data directory " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    /** A directory several processes may share (the job store is elsewhere). */
    static DataDir shared(Path dir) {
        try {
            Files.createDirectories(dir);
            return new DataDir(dir, null, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the data directory " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return dir;
    }

    /** The configured secret, else the one kept in the directory (made on first use, readable by the owner only). */
    byte[] linkSecret(String configured) {
        if (configured != null) {
            return configured.getBytes(StandardCharsets.UTF_8);
        }
        Path file = dir.resolve(SECRET_FILE);
        try {
            if (Files.exists(file)) {
                return HexFormat.of().parseHex(Files.readString(file, StandardCharsets.US_ASCII).strip());
            }
            byte[] secret = new byte[32];
            SecureRandom random = new SecureRandom();
            random.nextBytes(secret);
            Path temp = dir.resolve(SECRET_FILE + "." + Long.toHexString(random.nextLong()) + ".tmp");
            try {
                Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(temp);
            }
            try {
                Files.writeString(temp, HexFormat.of().formatHex(secret), StandardCharsets.US_ASCII);
                // A link is made only if no file is there: of processes starting together, one secret wins.
                Files.createLink(file, temp);
                return secret;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return HexFormat.of().parseHex(Files.readString(file, StandardCharsets.US_ASCII).strip());
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot read or create the link secret " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (lock == null) {
            return;
        }
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the process is ending
        }
    }
}
