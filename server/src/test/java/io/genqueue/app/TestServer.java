package io.genqueue.app;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.blob.s3.S3ProxyServer;
import io.genqueue.json.Json;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.preview.PreviewProvider;
import io.genqueue.queue.JobListener;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The whole service, started in this JVM on a free port with its own data directory, and a real
 * HTTP client to talk to it. Tests go through sockets and HTTP exactly as clients do.
 *
 * <p>As a cluster ({@link #startCluster}), several nodes share one PostgreSQL schema and one S3
 * bucket, and each request goes to the next node in turn: a request submitted through one node is
 * read, streamed and cancelled through others, and run by any.
 */
final class TestServer implements AutoCloseable {

    final Path dataDir;
    final Application app;
    final String base;
    final String key;
    private final List<Application> nodes;
    private final List<String> bases;
    private final AtomicInteger turn = new AtomicInteger();
    private final List<AutoCloseable> resources = new ArrayList<>();
    /** What {@code keys} commands add to reach this server's key store: its data directory, or a config naming the PostgreSQL store. */
    private List<String> storeArgs;
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** Counts the store's committed changes; notified on each. */
    private final AtomicLong changes = new AtomicLong();

    private TestServer(Path dataDir, List<Application> nodes, String key) {
        this.dataDir = dataDir;
        this.nodes = List.copyOf(nodes);
        this.app = nodes.get(0);
        this.bases = nodes.stream().map(n -> "http://127.0.0.1:" + n.port()).toList();
        this.base = bases.get(0);
        this.key = key;
        this.storeArgs = List.of("--data-dir", dataDir.toString());
        for (Application node : nodes) {
            node.addJobListener(new JobListener() {
                @Override
                public void jobChanged(String jobId) {
                    synchronized (changes) {
                        changes.incrementAndGet();
                        changes.notifyAll();
                    }
                }
            });
        }
    }

    private TestServer(Path dataDir, Application app, String key) {
        this(dataDir, List.of(app), key);
    }

    /**
     * {@code size} nodes on one fresh PostgreSQL schema and one S3 bucket (an S3Proxy this starts),
     * all with {@code provider}; the first node makes the key.
     */
    static TestServer startCluster(Map<String, String> env, ImageProvider provider, int size) {
        return startCluster(env, provider, size, Clock.systemUTC());
    }

    /** As {@link #startCluster(Map, ImageProvider, int)}, every node reading time from {@code clock}. */
    static TestServer startCluster(Map<String, String> env, ImageProvider provider, int size, Clock clock) {
        TestSchemas schemas = new TestSchemas();
        S3ProxyServer s3 = S3ProxyServer.start();
        List<Application> nodes = new ArrayList<>();
        try {
            s3.createBucket("cluster");
            Path shared = Files.createTempDirectory("genqueue-cluster");
            Map<String, String> all = new HashMap<>(env);
            all.put("GENQUEUE_STORE", schemas.newSchemaUrl());
            all.put("GENQUEUE_STORE_POLL", "200ms");
            all.put("GENQUEUE_BLOBS", "s3://cluster/images");
            all.put("GENQUEUE_S3_ENDPOINT", s3.endpoint().toString());
            all.put("GENQUEUE_S3_REGION", "us-east-1");
            all.put("GENQUEUE_S3_PATH_STYLE", "true");
            all.put("GENQUEUE_S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY);
            all.put("GENQUEUE_S3_SECRET_KEY", S3ProxyServer.SECRET_KEY);
            String key = null;
            for (int i = 0; i < size; i++) {
                all.put("GENQUEUE_DATA_DIR", shared.resolve("node" + i).toString());
                TestServer node = start(all, clock, provider, false);
                nodes.add(node.app);
                key = key == null ? node.key : key;
            }
            TestServer cluster = new TestServer(shared, nodes, key);
            Path config = shared.resolve("keys.conf");
            Files.writeString(config, "GENQUEUE_STORE=" + all.get("GENQUEUE_STORE") + "\n");
            cluster.storeArgs = List.of("--config", config.toString());
            cluster.resources.add(s3);
            cluster.resources.add(schemas);
            return cluster;
        } catch (IOException | RuntimeException e) {
            nodes.forEach(Application::close);
            s3.close();
            schemas.close();
            throw e instanceof RuntimeException r ? r : new UncheckedIOException((IOException) e);
        }
    }

    /** Worker slots over all nodes: how many jobs can run at once. */
    int slots() {
        return nodes.stream().mapToInt(Application::workerSlots).sum();
    }

    /** The applications serving this test: one, or a cluster's nodes. */
    List<Application> nodes() {
        return nodes;
    }

    /** A server with the given settings (environment names) over the test defaults. */
    /** Pass as the provider to use the providers the settings configure. */
    static final ImageProvider CONFIGURED = new PreviewProvider(java.time.Duration.ZERO);

    /** A server with {@code env} over the test defaults, and {@code provider} (or the preview when null). */
    static TestServer start(Map<String, String> env, Clock clock, ImageProvider provider) {
        return start(env, clock, provider, true);
    }

    /** As {@link #start(Map, Clock, ImageProvider)}; {@code firstKeyExpected} false for a restart on a data directory in use before. */
    static TestServer start(Map<String, String> env, Clock clock, ImageProvider provider, boolean firstKeyExpected) {
        try {
            Path dir = Files.createTempDirectory("genqueue-test");
            Map<String, String> all = new HashMap<>(Map.of(
                    "GENQUEUE_PORT", "0",
                    "GENQUEUE_HOST", "127.0.0.1",
                    "GENQUEUE_DATA_DIR", dir.toString(),
                    "GENQUEUE_WORKERS", "4",
                    "GENQUEUE_SHUTDOWN_GRACE", "5s",
                    // these tests script failures to follow the job-level retries; the router's own
                    // retries and breakers are tested in ProviderRouterTest
                    "GENQUEUE_PROVIDER_RETRIES", "0",
                    "GENQUEUE_BREAKER_OPEN", "0s"));
            all.putAll(env);
            Settings settings = Settings.load(Map.of(), null, all);
            Application app = provider == CONFIGURED
                    ? Application.start(settings, clock, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                    : Embedded.start(all, clock, provider != null ? provider : new PreviewProvider(settings.previewDelay()))
                            .application();
            if (firstKeyExpected && app.firstKey() == null) {
                throw new IllegalStateException("the first start printed no key");
            }
            return new TestServer(dir, app, app.firstKey());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static TestServer start(Map<String, String> env) {
        return start(env, Clock.systemUTC(), null);
    }

    /**
     * {@code before}'s data directory started again with {@code env} (over the test defaults) and
     * {@code provider}, answering with {@code before}'s key (a restart prints no new one).
     */
    static TestServer restart(TestServer before, Map<String, String> env, Clock clock, ImageProvider provider) {
        Map<String, String> all = new HashMap<>(env);
        all.put("GENQUEUE_DATA_DIR", before.dataDir.toString());
        TestServer again = start(all, clock, provider, false);
        return new TestServer(again.dataDir, again.app, before.key);
    }

    static TestServer start() {
        return start(Map.of());
    }

    /** A new key for {@code tenant}, made with the command line as an operator would, with any further flags ({@code --rate 5/s}...). */
    String newKey(String tenant, String... flags) {
        List<String> args = new ArrayList<>(List.of("create", "--tenant", tenant));
        args.addAll(List.of(flags));
        Cli.Result result = keys(args.toArray(String[]::new));
        if (result.code() != 0) {
            throw new IllegalStateException("keys create failed: " + result);
        }
        return result.lastLine();
    }

    /** Runs {@code keys ARGS...} with the command line on this server's key store (SQLite or PostgreSQL). */
    Cli.Result keys(String... args) {
        List<String> all = new ArrayList<>(List.of("keys"));
        all.addAll(List.of(args));
        all.addAll(storeArgs);
        return Cli.run(all.toArray(String[]::new));
    }

    /** Revokes a key with the command line. */
    void revoke(String key) {
        Cli.Result result = keys("revoke", io.genqueue.auth.Keys.idOf(key));
        if (result.code() != 0) {
            throw new IllegalStateException("keys revoke failed: " + result);
        }
    }

    // ---------------------------------------------------------------- HTTP

    /** A response with its body parsed as JSON when it is JSON. */
    record Response(int status, String body, HttpResponse<String> raw) {
        JsonNode json() {
            try {
                return Json.mapper().readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }

        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        /** The scheme, host and port this was asked of. */
        String base() {
            URI uri = raw.uri();
            return uri.getScheme() + "://" + uri.getAuthority();
        }
    }

    HttpRequest.Builder request(String path) {
        return request(path, key);
    }

    /** A request to the next node in turn, with {@code apiKey}. */
    HttpRequest.Builder request(String path, String apiKey) {
        String node = bases.get(Math.floorMod(turn.getAndIncrement(), bases.size()));
        return HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : node + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + apiKey);
    }

    /**
     * Sends {@code request} and checks the answer against the OpenAPI document ({@link DocumentedApi}):
     * an answer its route's documentation does not allow fails the test that got it.
     */
    Response send(HttpRequest request) {
        try {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            DocumentedApi.get().check(request.method(), request.uri(), r.statusCode(), r.headers(), r.body());
            return new Response(r.statusCode(), r.body(), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Submits {@code json} with extra headers given as name, value, name, value... */
    Response submit(String json, String... headers) {
        return submitTo("/v1/queue/nano_banana", json, headers);
    }

    Response submitTo(String path, String json, String... headers) {
        HttpRequest.Builder b = request(path).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b.POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    Response get(String path) {
        return send(request(path).GET().build());
    }

    /** A GET with no key at all, as a browser or a code generator asks: {@code path} on this server, or a whole URL. */
    Response getWithoutKey(String path) {
        return send(HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : base + path)).timeout(Duration.ofSeconds(30))
                .GET().build());
    }

    Response put(String path) {
        return send(request(path).PUT(HttpRequest.BodyPublishers.noBody()).build());
    }

    /** Submits and returns the request id. */
    String submitOk(String json) {
        Response r = submit(json);
        if (r.status() != 200) {
            throw new AssertionError("submit answered " + r.status() + ": " + r.body());
        }
        return r.json().get("request_id").asText();
    }

    static String statusPath(String id) {
        return "/v1/queue/nano_banana/requests/" + id + "/status";
    }

    static String responsePath(String id) {
        return "/v1/queue/nano_banana/requests/" + id + "/response";
    }

    static String cancelPath(String id) {
        return "/v1/queue/nano_banana/requests/" + id + "/cancel";
    }

    /**
     * Looks at the status until {@code until} holds, for at most {@code timeout}; between looks it
     * waits for the store's next change.
     */
    JsonNode awaitStatus(String id, Predicate<JsonNode> until, Duration timeout) {
        return awaitStatus("nano_banana", id, until, timeout);
    }

    /** As {@link #awaitStatus(String, Predicate, Duration)}, for a request of {@code model}. */
    JsonNode awaitStatus(String model, String id, Predicate<JsonNode> until, Duration timeout) {
        AtomicLong seen = new AtomicLong(-1); // the change count before the previous look; none before the first
        return Eventually.value(timeout, "status of " + id + " in the expected state", () -> {
            if (seen.get() >= 0) {
                awaitChangeAfter(seen.get());
            }
            seen.set(changes.get());
            return get("/v1/queue/" + model + "/requests/" + id + "/status?logs=1").json();
        }, until);
    }

    /**
     * Waits until the store commits a change after {@code seen}. A status can also move without
     * an event (a job ahead of it leaving the queue), so the wait is cut short after 100 ms.
     */
    private void awaitChangeAfter(long seen) {
        long until = System.nanoTime() + 100_000_000L;
        synchronized (changes) {
            long left;
            while (changes.get() == seen && (left = until - System.nanoTime()) > 0) {
                try {
                    changes.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    JsonNode awaitCompleted(String id) {
        return awaitCompleted("nano_banana", id);
    }

    JsonNode awaitCompleted(String model, String id) {
        return awaitStatus(model, id, s -> s.get("status").asText().equals("COMPLETED"), Duration.ofSeconds(30));
    }

    /** Submits {@code json} to {@code model}'s queue and returns the request id. */
    String submitOk(String model, String json) {
        Response r = submitTo("/v1/queue/" + model, json);
        if (r.status() != 200) {
            throw new AssertionError("submit to " + model + " answered " + r.status() + ": " + r.body());
        }
        return r.json().get("request_id").asText();
    }

    @Override
    public void close() {
        nodes.forEach(Application::close);
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
