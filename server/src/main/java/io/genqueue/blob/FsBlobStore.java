package io.genqueue.blob;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Blobs as files under a directory: {@code <root>/<job id>/a<attempt>-<index>.<ext>}.
 *
 * <p>A put writes a temporary file, flushes it, renames it into place and flushes the directory, so
 * a crash leaves either the old blob, the new one, or a stray temporary file, never a torn image;
 * puts of one key at once leave one of their versions whole. A put that fails (an interrupt, a full
 * disk) removes its temporary file.
 * Keys are checked against a strict pattern, so no key can name a path outside the root. Any I/O
 * failure (a full disk above all) is a {@link BlobStoreException}.
 */
public final class FsBlobStore implements BlobStore {

    private static final Pattern KEY = Pattern.compile("[a-z0-9_]{1,64}/(a[0-9]{1,3}-)?[0-9]{1,3}\\.(png|jpg|webp)");
    private static final Pattern JOB_ID = Pattern.compile("[a-z0-9_]{1,64}");

    private final Path root;

    public FsBlobStore(Path root) {
        try {
            this.root = Files.createDirectories(root).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the image directory " + root, e);
        }
    }

    /** Whether {@code key} is a key this store could hold. */
    public static boolean validKey(String key) {
        return KEY.matcher(key).matches();
    }

    @Override
    public void put(String key, byte[] bytes, String contentType) {
        Path target = path(key);
        try {
            Path dir = Files.createDirectories(target.getParent());
            // A name of its own: two puts of one key (a job run again while its reaped run still
            // writes) must not write into one temporary file.
            Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
            boolean moved = false;
            try {
                try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                    ByteBuffer buffer = ByteBuffer.wrap(bytes);
                    while (buffer.hasRemaining()) {
                        ch.write(buffer);
                    }
                    ch.force(true);
                }
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
                moved = true;
            } finally {
                if (!moved) {
                    deleteQuietly(temp);
                }
            }
            forceDirectory(dir);
        } catch (IOException e) {
            throw new BlobStoreException("cannot store image " + key + ": " + e, e);
        }
    }

    @Override
    public Optional<Blob> open(String key) {
        if (!validKey(key)) {
            return Optional.empty();
        }
        try {
            // The size of the opened file, not of the path: a put may rename a new version into
            // place between the open and a second look at the path.
            SeekableByteChannel file = Files.newByteChannel(path(key));
            try {
                return Optional.of(new Blob(Channels.newInputStream(file), file.size()));
            } catch (IOException e) {
                file.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new BlobStoreException("cannot read image " + key + ": " + e, e);
        }
    }

    @Override
    public void deleteJob(String jobId) {
        if (!JOB_ID.matcher(jobId).matches()) {
            throw new IllegalArgumentException("not a job id: " + jobId);
        }
        Path dir = root.resolve(jobId);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new BlobStoreException("cannot delete the images of " + jobId + ": " + e, e);
        }
    }

    @Override
    public List<String> keys(String jobId) {
        if (!JOB_ID.matcher(jobId).matches()) {
            throw new IllegalArgumentException("not a job id: " + jobId);
        }
        Path dir = root.resolve(jobId);
        List<String> keys = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return keys;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String key = jobId + "/" + file.getFileName();
                if (validKey(key)) { // not a put's temporary file
                    keys.add(key);
                }
            }
        } catch (NoSuchFileException e) {
            return keys; // the job's directory went while listing
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the images of " + jobId, e);
        }
        return keys;
    }

    @Override
    public void delete(Collection<String> keys) {
        for (String key : keys) {
            try {
                Files.deleteIfExists(path(key));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete image " + key, e);
            }
        }
    }

    @Override
    public boolean ping() {
        return Files.isDirectory(root) && Files.isWritable(root);
    }

    private Path path(String key) {
        if (!validKey(key)) {
            throw new IllegalArgumentException("not a blob key: " + key);
        }
        return root.resolve(key);
    }

    private static void deleteQuietly(Path temp) {
        // Interrupt-safe: Files.deleteIfExists opens no interruptible channel.
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // a stray temporary file is all that is left; it is no key, so nothing serves it
        }
    }

    private static void forceDirectory(Path dir) {
        // Makes the rename durable. Not every file system lets a directory be opened; then the
        // rename is as durable as that file system makes it.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // best effort, see above
        }
    }
}
