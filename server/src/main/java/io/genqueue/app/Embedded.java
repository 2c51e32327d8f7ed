package io.genqueue.app;

import io.genqueue.provider.ImageProvider;
import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Clock;
import java.util.Map;

/**
 * genqueue inside another program's JVM: the whole server, configured by {@code GENQUEUE_*} names
 * (exactly as the environment would), with a provider of the caller's choosing. For benchmarks and
 * tools that need to watch the service from the inside; a deployment uses {@code serve}.
 */
public final class Embedded implements AutoCloseable {

    private final Application app;
    private final String firstKey;

    private Embedded(Application app, String firstKey) {
        this.app = app;
        this.firstKey = firstKey;
    }

    /**
     * Starts a server.
     *
     * @param settings setting names ({@code GENQUEUE_PORT}, ...) to values; the rest take defaults
     * @throws IllegalArgumentException naming every bad setting
     */
    public static Embedded start(Map<String, String> settings, Clock clock, ImageProvider provider) {
        Settings parsed;
        try {
            parsed = Settings.load(Map.of(), null, settings);
        } catch (Settings.InvalidSettings e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Application app = Application.start(parsed, clock, new PrintStream(OutputStream.nullOutputStream()), provider);
        return new Embedded(app, app.firstKey());
    }

    /** The port it listens on. */
    public int port() {
        return app.port();
    }

    /** The key made on first start of this data directory, or null if one existed already. */
    public String firstKey() {
        return firstKey;
    }

    /** A new API key of {@code tenant} with {@code limits}, in this server's store, as {@code keys create} makes one; its secret. */
    public String newKey(String tenant, io.genqueue.auth.KeyLimits limits) {
        return app.keys().create(tenant, limits, false).secret();
    }

    /**
     * Hears the store's committed changes (a job claimed, finished, requeued; work available after
     * a submit), on the store's writer thread, right after the commit: listeners must return at once.
     */
    public void addListener(io.genqueue.queue.JobListener listener) {
        app.addJobListener(listener);
    }

    Application application() {
        return app;
    }

    /** Stops gracefully, as on SIGTERM. */
    @Override
    public void close() {
        app.close();
    }
}
