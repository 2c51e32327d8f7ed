package io.genqueue.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small filesystem of its own for a test: a tmpfs of a given size mounted on a fresh directory
 * (tests run as root, here and in CI). Mounting that fails throws with the reason: a test on a
 * full disk must never pass by not running. {@link #fill} takes every free byte with a filler
 * file; {@link #free} deletes it.
 */
final class SmallDisk implements AutoCloseable {

    private final Path dir;
    private final Path filler;

    private SmallDisk(Path dir) {
        this.dir = dir;
        this.filler = dir.resolve("filler");
    }

    /** Mounts a tmpfs of {@code megabytes} on a new directory. */
    static SmallDisk mount(int megabytes) {
        try {
            Path dir = Files.createTempDirectory("genqueue-small-disk");
            run(List.of("mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m", "tmpfs", dir.toString()));
            return new SmallDisk(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The mounted directory (the data directory goes below it, the filler beside). */
    Path path() {
        return dir;
    }

    /** Writes a filler file until the filesystem refuses a byte more ({@code ENOSPC}). */
    void fill() {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        try (FileChannel out = FileChannel.open(filler, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            while (true) {
                chunk.clear();
                out.write(chunk);
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw new UncheckedIOException("filling " + dir + " failed otherwise than with a full disk", full);
            }
        }
        fillTail();
    }

    /** The last bytes, smaller than a chunk. */
    private void fillTail() {
        try (FileChannel out = FileChannel.open(filler, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                out.write(one);
            }
        } catch (IOException full) {
            // full to the byte
        }
    }

    /** Bytes this process may still write there. */
    long usable() {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes the filler: the space is back. */
    void free() {
        try {
            Files.deleteIfExists(filler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Unmounts (lazily, should a file still be open) and removes the directory. */
    @Override
    public void close() {
        run(List.of("umount", "-l", dir.toString()));
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not end within 30 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + output.strip()
                        + " -- this test needs a filesystem of its own: run it as root (or with CAP_SYS_ADMIN)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
