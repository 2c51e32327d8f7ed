package io.genqueue.client;

import io.genqueue.app.Embedded;
import io.genqueue.provider.ImageProvider;
import io.genqueue.store.postgres.TestSchemas;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * The real server in this JVM ({@link Embedded}) on a free port, on SQLite in its own data
 * directory or on a fresh PostgreSQL schema; the client tests reach it only over HTTP.
 */
public final class LiveServer implements AutoCloseable {

    public enum Store { SQLITE, POSTGRESQL }

    private final Embedded server;
    private final TestSchemas schemas;
    public final String base;
    public final String key;

    private LiveServer(Embedded server, TestSchemas schemas) {
        this.server = server;
        this.schemas = schemas;
        this.base = "http://127.0.0.1:" + server.port();
        this.key = server.firstKey();
    }

    /** A server on {@code store} with {@code settings} ({@code GENQUEUE_*} names) over the test defaults. */
    public static LiveServer start(Store store, Map<String, String> settings, ImageProvider provider) {
        TestSchemas schemas = store == Store.POSTGRESQL ? new TestSchemas() : null;
        try {
            Map<String, String> all = new HashMap<>(Map.of(
                    "GENQUEUE_PORT", "0",
                    "GENQUEUE_HOST", "127.0.0.1",
                    "GENQUEUE_DATA_DIR", Files.createTempDirectory("genqueue-client-test").toString(),
                    "GENQUEUE_WORKERS", "2",
                    "GENQUEUE_SHUTDOWN_GRACE", "5s",
                    "GENQUEUE_PROVIDER_RETRIES", "0"));
            if (schemas != null) {
                all.put("GENQUEUE_STORE", schemas.newSchemaUrl());
                all.put("GENQUEUE_STORE_POLL", "200ms");
            }
            all.putAll(settings);
            return new LiveServer(Embedded.start(all, Clock.systemUTC(), provider), schemas);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A client of this server through {@code base} (the server's own, or a proxy's in front of it). */
    GenQueueClient.Builder client(String base) {
        return GenQueueClient.builder().baseUrl(base).apiKey(key).backoff(java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(100));
    }

    /** A new key of {@code tenant} with these limits (as {@code keys create --rate ... --burst ...} makes it). */
    String newKey(String tenant, io.genqueue.auth.KeyLimits limits) {
        return server.newKey(tenant, limits);
    }

    GenQueueClient client() {
        return client(base).build();
    }

    @Override
    public void close() {
        server.close();
        if (schemas != null) {
            schemas.close();
        }
    }
}
