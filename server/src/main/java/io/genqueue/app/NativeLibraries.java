package io.genqueue.app;

import io.genqueue.image.Encoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the native libraries two dependencies bundle, SQLite's JDBC driver and the WebP writer, so
 * that a process leaves no copy of them behind.
 *
 * <p>Each one's loader (the same code, from sqlite-jdbc) extracts its library into
 * {@code java.io.tmpdir} under a new name at every start
 * ({@code sqlite-<version>-<uuid>-libsqlitejdbc.so}, {@code webp-imageio-<version>-<uuid>-libwebp-imageio.so},
 * each with a {@code .lck}) and deletes the files only when the JVM exits normally: every process
 * that was killed (SIGKILL, the OOM killer, a power cut) left about 1.8 MB there for good. Here both
 * loaders are pointed at a directory of this start's own (their properties {@code org.sqlite.tmpdir}
 * and {@code com.luciad.imageio.webp.tmpdir}), both libraries are loaded, and the directory is
 * deleted at once: a loaded library stays mapped after its file is gone. Only a kill within those
 * milliseconds leaves the directory. Where a file cannot be removed (Windows keeps a loaded DLL's
 * file), the loaders' own delete-on-exit still applies. A property the operator set is left alone,
 * and so is its directory.
 *
 * <p>Runs once per JVM, first at start, before anything opens a database or touches an image:
 * the libraries load once per process, so a later use finds them loaded and extracts nothing.
 */
final class NativeLibraries {

    private static final Logger log = LoggerFactory.getLogger(NativeLibraries.class);
    private static final List<String> EXTRACT_DIR_PROPERTIES = List.of("org.sqlite.tmpdir", "com.luciad.imageio.webp.tmpdir");

    private static boolean loaded;

    private NativeLibraries() {
    }

    static synchronized void load() {
        if (loaded) {
            return;
        }
        loaded = true;
        Path dir;
        try {
            dir = Files.createTempDirectory("genqueue-native-");
        } catch (IOException e) {
            log.warn("cannot make a directory for the native libraries; they are extracted where their loaders choose: {}",
                    e.toString());
            return;
        }
        List<String> set = EXTRACT_DIR_PROPERTIES.stream().filter(p -> System.getProperty(p) == null).toList();
        set.forEach(p -> System.setProperty(p, dir.toString()));
        try {
            org.sqlite.SQLiteJDBCLoader.initialize();
        } catch (Exception | LinkageError e) {
            log.warn("SQLite's native library did not load: {}", e.toString()); // the first connection says more
        }
        Encoder.webpAvailable(); // loads the WebP writer (its probe logs why when it cannot)
        set.forEach(System::clearProperty);
        deleteTree(dir);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            log.debug("cannot delete {} (the loaders delete their files at exit): {}", dir, e.toString());
        }
    }
}
