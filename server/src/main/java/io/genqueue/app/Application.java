package io.genqueue.app;

import io.genqueue.auth.KeyStore;
import io.genqueue.auth.NewKey;
import io.genqueue.blob.BlobStore;
import io.genqueue.blob.FsBlobStore;
import io.genqueue.blob.s3.S3BlobStore;
import io.genqueue.fetch.FetchPolicy;
import io.genqueue.fetch.ReferenceImageFetcher;
import io.genqueue.fetch.WebhookPoster;
import io.genqueue.generation.InputValidator;
import io.genqueue.http.HttpApi;
import io.genqueue.http.ServedModel;
import io.genqueue.http.MetricsAccess;
import io.genqueue.http.MetricsServer;
import io.genqueue.metrics.Metrics;
import io.genqueue.limit.FreeDiskGate;
import io.genqueue.limit.LocalRateLimiter;
import io.genqueue.limit.QueueDepthGate;
import io.genqueue.limit.RateLimiter;
import io.genqueue.provider.Backoff;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderHealth;
import io.genqueue.provider.router.ProviderRouter;
import io.genqueue.queue.JobEvents;
import io.genqueue.queue.JobStore;
import io.genqueue.store.postgres.PostgresConfig;
import io.genqueue.store.postgres.PostgresJobStore;
import io.genqueue.store.postgres.PostgresKeyStore;
import io.genqueue.store.postgres.PostgresRateLimiter;
import io.genqueue.store.postgres.PostgresSigningKeyStore;
import io.genqueue.store.postgres.PostgresUsageStore;
import io.genqueue.store.postgres.PostgresWebhookOutbox;
import io.genqueue.store.sqlite.SqliteDatabase;
import io.genqueue.store.sqlite.SqliteJobStore;
import io.genqueue.store.sqlite.SqliteKeyStore;
import io.genqueue.store.sqlite.SqliteSigningKeyStore;
import io.genqueue.store.sqlite.SqliteUsageStore;
import io.genqueue.store.sqlite.SqliteWebhookOutbox;
import io.genqueue.usage.UsageStore;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.SigningKeyStore;
import io.genqueue.webhook.WebhookDeliverer;
import io.genqueue.webhook.WebhookOutbox;
import io.genqueue.worker.Worker;
import io.genqueue.worker.ModelWork;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running genqueue: every part built by hand, in dependency order, and closed in reverse.
 * {@link #close} is the graceful stop: no new claims, the HTTP listener closes, running jobs get
 * the grace period and are then requeued, and the store is closed last.
 */
public final class Application implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Application.class);
    static final String DEFAULT_TENANT = "default";

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final Settings settings;
    /** Webhook attempts in flight at once, per process: receivers are other people's servers, often slow. */
    static final int WEBHOOK_CONCURRENCY = 64;
    /** How long one count of the queue (a store query) answers the queue gauges of every scrape. */
    static final Duration QUEUE_DEPTH_CACHE = Duration.ofSeconds(5);

    private Worker worker;
    private JobStore store;
    private SigningKeyStore signingKeys;
    private KeyStore keys;
    private String firstKey;
    private HttpApi http;
    private int port;
    private final Metrics metrics;
    private int metricsPort = -1;

    private Application(Settings settings, Metrics metrics) {
        this.settings = settings;
        this.metrics = keep(metrics);
    }

    /**
     * Starts everything; on failure, closes what was started and rethrows.
     *
     * @param out where the first API key is printed, once
     */
    static Application start(Settings settings, Clock clock, PrintStream out) {
        NativeLibraries.load();
        Metrics metrics = metrics(settings);
        return start(settings, clock, out, settings.upstreams().routers(settings.catalog(), settings.previewDelay(), clock,
                metrics.providers()), metrics);
    }

    /** Starts with one given provider for every model (tests, embedding), behind a router per model with the configured limits. */
    static Application start(Settings settings, Clock clock, PrintStream out, ImageProvider provider) {
        NativeLibraries.load();
        Metrics metrics = metrics(settings);
        return start(settings, clock, out, settings.upstreams().routers(settings.catalog(), provider, clock, metrics.providers()),
                metrics);
    }

    /** The process's meters: none at all when metrics are off, so the hot paths record nothing. */
    private static Metrics metrics(Settings settings) {
        return settings.metrics().access() == MetricsAccess.OFF ? Metrics.none()
                : Metrics.prometheus(settings.models(), settings.metrics().tenantLabel());
    }

    private static Application start(Settings settings, Clock clock, PrintStream out, List<ModelWork> models, Metrics metrics) {
        Application app = new Application(settings, metrics);
        try {
            app.startParts(clock, out, models);
            return app;
        } catch (RuntimeException e) {
            app.close();
            throw e;
        }
    }

    private void startParts(Clock clock, PrintStream out, List<ModelWork> models) {
        keep(settings.logs().apply());
        DataDir dataDir = keep(settings.storage().postgres() ? DataDir.shared(settings.dataDir()) : DataDir.lock(settings.dataDir()));
        WebhookOutbox outbox;
        UsageStore usage;
        RateLimiter rates;
        Duration depthRefresh;
        if (settings.storage().postgres()) {
            PostgresJobStore pg = keep(PostgresJobStore.open(postgresConfig(settings), clock));
            store = pg;
            keys = PostgresKeyStore.beside(pg);
            signingKeys = PostgresSigningKeyStore.beside(pg);
            outbox = PostgresWebhookOutbox.beside(pg);
            usage = PostgresUsageStore.beside(pg);
            rates = PostgresRateLimiter.beside(pg); // one bucket per key for the whole cluster
            depthRefresh = settings.storage().poll(); // the depth is a count on PostgreSQL
        } else {
            SqliteJobStore sqlite = keep(SqliteJobStore.open(SqliteDatabase.open(dataDir.path()), clock, settings.readers()));
            store = sqlite;
            keys = SqliteKeyStore.beside(sqlite);
            signingKeys = SqliteSigningKeyStore.beside(sqlite);
            outbox = SqliteWebhookOutbox.beside(sqlite);
            usage = SqliteUsageStore.beside(sqlite);
            rates = new LocalRateLimiter(clock); // one process owns the store
            depthRefresh = Duration.ZERO; // the depth is the queue index's, free
        }
        BlobStore blobs = settings.storage().s3() != null
                ? keep(new S3BlobStore(settings.storage().s3(), Clock.systemUTC())) // signs links: real time, always
                : new FsBlobStore(dataDir.path().resolve("images"));
        // The watermark guards the disk that grows with the jobs: the SQLite store's or the images'.
        boolean localData = !settings.storage().postgres() || settings.storage().s3() == null;
        FreeDiskGate disk = keep(localData ? FreeDiskGate.watch(dataDir.path(), settings.minFreeDisk()) : FreeDiskGate.off());
        if (disk.watching()) {
            metrics.disk(disk::low, disk::freeBytes);
        }
        FetchPolicy fetchPolicy = new FetchPolicy(settings.fetchTimeout(), settings.fetchMaxBytes(), settings.fetchMaxRedirects(),
                settings.fetchMaxPixels(), settings.fetchAllow());
        List<ServedModel> served = models.stream().map(m -> new ServedModel(new InputValidator(m.model(),
                m.providers().outputFormats(), m.providers().name(), settings.fetchMaxBytes(), settings.fetchMaxPixels()),
                m.providers()::health)).toList();
        int capacity = models.stream().mapToInt(m -> m.providers().capacity()).sum();

        JobEvents events = new JobEvents();
        store.addListener(events);
        boolean serves = settings.role().servesHttp();
        // more claimed jobs than the providers' slots would only wait in a slot instead of the queue
        int slots = runsJobs(settings) ? Math.min(settings.workers(), capacity) : 0;
        // close() shuts the worker's claiming down before closing resources, so leases of finishing jobs are renewed to the end.
        worker = keep(new Worker(store, blobs, models, new ReferenceImageFetcher(fetchPolicy), clock, new Worker.Settings(slots,
                settings.lease(), settings.maxAttempts(), new Backoff(settings.retryBase(), settings.retryMax()), settings.retention()),
                metrics.jobs(), disk::low));
        disk.onChange(worker::wake);
        metrics.queueDepth(settings.models(), store::queueDepth, QUEUE_DEPTH_CACHE, clock);
        // one gauge per provider: a provider serving several models shows its worst circuit among them
        metrics.breakers(() -> models.stream().flatMap(m -> m.providers().health().stream())
                .collect(java.util.stream.Collectors.toMap(ProviderHealth::provider, ProviderHealth::state, Application::worse)));

        keys.createFirst(DEFAULT_TENANT).ifPresent(key -> {
            firstKey = key.secret();
            printFirstKey(out, key);
        });
        SigningKey webhookKey = signingKeys.active(); // made at the deployment's first start, once however many processes start
        WebhookPoster webhooks = new WebhookPoster(new WebhookPoster.Settings(settings.webhookTimeout(), settings.webhookTimeout(),
                settings.fetchAllow()));
        if (serves) {
            startHttp(clock, served, keys, usage, blobs, events, dataDir, webhooks, rates,
                    new QueueDepthGate(store::queuedJobs, settings.maxQueued(), depthRefresh, clock), disk);
            // Deliveries run where the API runs: their payload is the API's answer for the request. The
            // deliverer holds the API itself, not this field: close() stops the API first and drops the
            // field, while jobs that end within the shutdown grace still owe their deliveries.
            HttpApi api = http;
            WebhookDeliverer deliverer = keep(new WebhookDeliverer(outbox, signingKeys, webhooks,
                    claim -> api.responseNow(claim.tenant(), claim.jobId(), claim.linkBase()), clock,
                    new WebhookDeliverer.Settings(settings.webhookRetries(), settings.webhookTimeout(), WEBHOOK_CONCURRENCY),
                    metrics.webhooks()));
            store.addListener(deliverer.listener());
            deliverer.start();
        }
        if (settings.metrics().ownPort() && metrics.enabled()) { // in every role: a worker is scraped here
            MetricsServer server = keep(new MetricsServer(settings.host(), settings.metrics().port(), metrics,
                    settings.metrics().access(), keys));
            metricsPort = server.start();
        }
        worker.startClaiming();
        log.info("genqueue {} (role {}, store {}, data {}, models {}, providers {}, {} worker slot(s), webhook key {})",
                serves ? "listening on http://" + settings.host() + ":" + port : "running without HTTP", settings.role(),
                settings.storage(), dataDir.path().toAbsolutePath(), String.join(",", settings.models().stream().sorted().toList()),
                String.join("; ", models.stream().map(m -> m.model().id() + ": " + m.providers().name()).toList()),
                workerSlots(), webhookKey.kid());
    }

    private void startHttp(Clock clock, List<ServedModel> served, KeyStore keys, UsageStore usage, BlobStore blobs,
            JobEvents events, DataDir dataDir, WebhookPoster webhooks, RateLimiter rates, QueueDepthGate depth, FreeDiskGate disk) {
        http = new HttpApi(new HttpApi.Settings(settings.host(), settings.port(), settings.publicUrl(), settings.maxBodyBytes(),
                settings.linkTtl(), settings.retention(), settings.streamKeepAlive(),
                settings.requestTimeout(), settings.metrics().access(), settings.metrics().ownPort(),
                new HttpApi.OpenAi(settings.openAiModel(), settings.openAiTimeout(), settings.fetchMaxBytes())),
                store, keys, usage, blobs, events, served, signingKeys::published, webhooks, rates, depth, disk,
                dataDir.linkSecret(settings.linkSecret()), metrics, clock);
        port = http.start();
    }

    /** Of two circuit states, the one further from closed. */
    private static String worse(String a, String b) {
        List<String> order = List.of("closed", "half_open", "open");
        return order.indexOf(a) >= order.indexOf(b) ? a : b;
    }

    static PostgresConfig postgresConfig(Settings settings) {
        return PostgresConfig.of(settings.storage().store()).withPollInterval(settings.storage().poll())
                .withPollOnly(settings.storage().pollOnly()).withRunsJobs(runsJobs(settings));
    }

    /** Whether this process claims and runs jobs (role worker or all, with worker slots). */
    private static boolean runsJobs(Settings settings) {
        return settings.role().runsJobs() && settings.workers() > 0;
    }

    /** Jobs this process runs at once (0 when it runs none). */
    int workerSlots() {
        return worker == null ? 0 : worker.slots();
    }

    int port() {
        return port;
    }

    /** The routes this process serves (none without HTTP): what the OpenAPI document must cover. */
    List<HttpApi.Route> httpRoutes() {
        return http == null ? List.of() : http.routes();
    }

    /** The port {@code /metrics} has to itself, or -1 when it has none. */
    int metricsPort() {
        return metricsPort;
    }

    /** The API keys of this server's store (for tests that make keys with limits). */
    KeyStore keys() {
        return keys;
    }

    /** Where the webhook signing keys are, so tests sign with the key the server publishes. */
    SigningKeyStore signingKeys() {
        return signingKeys;
    }

    /** The key made because none existed at this start, or null. */
    String firstKey() {
        return firstKey;
    }

    /** Hears the store's committed changes (for measurements from the inside). */
    void addJobListener(io.genqueue.queue.JobListener listener) {
        store.addListener(listener);
    }

    /** The part that runs jobs and maintenance, so tests can run one pass on a stepped clock instead of waiting. */
    Worker worker() {
        return worker;
    }

    private <T extends AutoCloseable> T keep(T resource) {
        resources.push(resource);
        return resource;
    }

    private void printFirstKey(PrintStream out, NewKey key) {
        out.println();
        out.println("genqueue: no API key existed, so one was made for tenant '" + DEFAULT_TENANT + "'.");
        out.println("It is shown only this once; keep it:");
        out.println();
        out.println("    " + key.secret());
        out.println();
        out.println("Make more with: java -jar target/genqueue.jar keys create --tenant NAME --data-dir " + settings.dataDir());
        out.println();
        out.flush();
    }

    @Override
    public synchronized void close() {
        if (worker != null) {
            worker.stopClaiming();
        }
        if (http != null) {
            http.close();
            http = null;
        }
        if (worker != null) {
            worker.shutdown(settings.shutdownGrace());
        }
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", e.getClass().getSimpleName(), e.getMessage());
            }
        }
    }
}
