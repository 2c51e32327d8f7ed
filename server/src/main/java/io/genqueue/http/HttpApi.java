package io.genqueue.http;

import io.genqueue.auth.KeyStore;
import io.genqueue.blob.BlobStore;
import io.genqueue.fetch.WebhookPoster;
import io.genqueue.generation.InputValidator;
import io.genqueue.image.AspectRatio;
import io.genqueue.limit.FreeDiskGate;
import io.genqueue.limit.QueueDepthGate;
import io.genqueue.limit.RateLimiter;
import io.genqueue.metrics.HttpMeters;
import io.genqueue.metrics.Metrics;
import io.genqueue.queue.JobEvents;
import io.genqueue.queue.JobStore;
import io.genqueue.usage.UsageStore;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.WebhookBody;
import io.helidon.http.Method;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The HTTP face of the service: the route table, and the Helidon server that serves it.
 *
 * <pre>
 * POST /v1/queue/{model}                                     submit
 * POST /v1/images/generations, /v1/images/edits             OpenAI's images API: submit, wait, answer in OpenAI's shape
 * GET  /v1/queue/{model}/requests/{request_id}/status        status (?logs=1)
 * GET  /v1/queue/{model}/requests/{request_id}/status/stream status as server-sent events
 * GET  /v1/queue/{model}/requests/{request_id}/response      result
 * GET  /v1/queue/{model}/requests/{request_id}               result (fal's alias)
 * PUT  /v1/queue/{model}/requests/{request_id}/cancel        cancel
 * GET  /files/{job}/{file}                                   signed image links
 * GET  /v1/usage                                            the caller's tenant's usage (?from=&to=)
 * GET  /v1/admin/keys, POST /v1/admin/keys                   admin keys only: list keys, create one (its secret shown once)
 * PATCH, DELETE /v1/admin/keys/{id}                          admin keys only: change a key's limits, revoke it
 * GET  /v1/admin/usage                                      admin keys only: every tenant's usage (?from=&to=&tenant=)
 * GET  /v1/models, /v1/models/{model}                        the models: parameters (JSON Schema), sizes, providers and health
 * GET  /.well-known/jwks.json                                webhook signing keys (public parts)
 * GET  /healthz, /readyz                                     liveness, readiness
 * GET  /metrics                                              Prometheus text (unless off, or on its own port)
 * GET  /openapi.json                                         the OpenAPI 3.1 document of all of these
 * GET  /docs, /docs/{file}                                   that document rendered (Swagger UI)
 * GET  /, /playground/{file}                                 the playground: try the API in a browser
 * </pre>
 *
 * <p>The table is data ({@link #routes()}): the same list registers the routes, tells a wrong
 * method (405) from an unknown path (404), and is what the OpenAPI document is checked against.
 *
 * <p>Every answer is timed by route template ({@code http_server_requests_seconds}), every
 * {@code 429} counted ({@code genqueue_rate_limited_total}), and every request given its access
 * line ({@link AccessLog}), by one filter in front of the routes: a handler that answers 429 needs
 * to do nothing more.
 */
public final class HttpApi implements AutoCloseable {

    /** What the HTTP layer needs to know. */
    public record Settings(
            String host,
            int port,
            String publicUrl,
            long maxBodyBytes,
            Duration linkTtl,
            Duration retention,
            Duration streamKeepAlive,
            Duration requestTimeout,
            MetricsAccess metricsAccess,
            boolean metricsOwnPort,
            OpenAi openAi) {
    }

    /**
     * The settings of OpenAI's images routes ({@code POST /v1/images/generations} and {@code /edits}).
     *
     * @param defaultModel the model of a request that names none; one of the served models
     * @param timeout the longest a call waits for its job
     * @param maxImageBytes the largest reference image ({@code GENQUEUE_FETCH_MAX_BYTES}): an edits
     *     body may carry the most reference images at this size on top of the submit limit
     */
    public record OpenAi(String defaultModel, Duration timeout, long maxImageBytes) {

        /** The largest edits body: the submit limit, and the most reference images any served model takes at full size. */
        long maxEditBytes(long maxBodyBytes, int mostReferenceImages) {
            return maxBodyBytes + mostReferenceImages * maxImageBytes;
        }
    }

    /** One registered route: its method and its path template ({@code {name}} matches one segment). */
    public record Route(Method method, String template) {

        /** Whether {@code path} is one this template matches. */
        boolean matches(String path) {
            return pattern().matcher(path).matches();
        }

        private Pattern pattern() {
            StringBuilder regex = new StringBuilder();
            for (String part : template.split("\\{[^/}]+}", -1)) {
                if (!regex.isEmpty()) {
                    regex.append("[^/]+");
                }
                regex.append(Pattern.quote(part));
            }
            return Pattern.compile(regex.toString());
        }

        @Override
        public String toString() {
            return method.text() + " " + template;
        }
    }

    private record Registered(Route route, Handler handler) {
    }

    static final Duration IDLE_CONNECTION_TIMEOUT = Duration.ofSeconds(60);

    /** The logger of the access lines ({@link AccessLog}): {@code GENQUEUE_ACCESS_LOG=false} turns it off. */
    public static final String ACCESS_LOGGER = AccessLog.LOGGER;

    private final WebServer server;
    private final JobEvents events;
    private final RequestDeadline deadline;
    private final JobHandlers jobs;
    private final List<Route> routes;

    public HttpApi(Settings settings, JobStore store, KeyStore keys, UsageStore usage, BlobStore blobs, JobEvents events,
            List<ServedModel> models, Supplier<List<SigningKey>> webhookKeys, WebhookPoster webhooks, RateLimiter rates,
            QueueDepthGate depth, FreeDiskGate disk, byte[] linkSecret, Metrics metrics, Clock clock) {
        this.events = events;
        LinkSigner links = new LinkSigner(linkSecret, settings.linkTtl(), clock);
        BaseUrl baseUrl = new BaseUrl(settings.publicUrl(), settings.port());
        Authenticator auth = new Authenticator(keys);
        JobLookup lookup = new JobLookup(auth, store, models.stream().map(ServedModel::id).collect(Collectors.toSet()));
        Map<String, InputValidator> validators = models.stream().collect(Collectors.toMap(ServedModel::id, ServedModel::validator));
        SubmitHandler submit = new SubmitHandler(lookup, validators, store, baseUrl, clock, settings.maxBodyBytes(), webhooks, rates,
                depth, disk, metrics.jobs());
        ImageLinks imageLinks = new ImageLinks(blobs, links, settings.linkTtl());
        JobHandlers jobs = new JobHandlers(lookup, store, blobs, imageLinks, baseUrl,
                settings.retention(), metrics.jobs());
        this.jobs = jobs;
        StatusStream stream = new StatusStream(lookup, jobs, store, events, settings.streamKeepAlive());
        this.deadline = new RequestDeadline(settings.requestTimeout());
        // OpenAI's sizes and each model's own by aspect ratio (image.AspectRatio); a model's size tiers
        // (nano_banana_pro's 2K, 4K) are asked for with the submit route's image_size, not through size.
        OpenAiSizes sizes = OpenAiSizes.of(List.of(AspectRatio.values()));
        OpenAiImages openAi = new OpenAiImages(lookup, submit, jobs, validators, store, blobs,
                imageLinks, baseUrl, events, deadline, sizes, settings.maxBodyBytes(),
                settings.openAi(), clock);
        FileRoute files = new FileRoute(blobs, links);
        Health health = new Health(store, blobs, disk);
        ModelsRoute modelsRoute = new ModelsRoute(models);
        JwksRoute jwks = new JwksRoute(webhookKeys);
        Map<String, java.math.BigDecimal> prices = models.stream().collect(Collectors.toMap(ServedModel::id,
                m -> m.model().pricePerImage()));
        UsageRoute usageRoute = new UsageRoute(auth, usage, prices, clock);
        AdminRoutes admin = new AdminRoutes(auth, keys, usage, prices, settings.maxBodyBytes(), clock);

        ApiDocs docs = new ApiDocs();
        Playground playground = new Playground();

        List<Registered> table = new java.util.ArrayList<>(List.of(
                route(Method.POST, "/v1/queue/{model}", submit),
                route(Method.POST, OpenAiImages.GENERATIONS, openAi::generations),
                route(Method.POST, OpenAiImages.EDITS, openAi::edits),
                route(Method.GET, "/v1/queue/{model}/requests/{request_id}/status", jobs::status),
                route(Method.GET, "/v1/queue/{model}/requests/{request_id}/status/stream", stream::handle),
                route(Method.GET, "/v1/queue/{model}/requests/{request_id}/response", jobs::response),
                route(Method.GET, "/v1/queue/{model}/requests/{request_id}", jobs::response),
                route(Method.PUT, "/v1/queue/{model}/requests/{request_id}/cancel", jobs::cancel),
                route(Method.GET, "/files/{job}/{file}", files::handle),
                route(Method.GET, "/v1/usage", usageRoute::handle),
                route(Method.GET, "/v1/admin/keys", admin::list),
                route(Method.POST, "/v1/admin/keys", admin::create),
                route(Method.PATCH, "/v1/admin/keys/{id}", admin::update),
                route(Method.DELETE, "/v1/admin/keys/{id}", admin::revoke),
                route(Method.GET, "/v1/admin/usage", admin::usage),
                route(Method.GET, "/v1/models", modelsRoute::list),
                route(Method.GET, "/v1/models/{model}", modelsRoute::one),
                route(Method.GET, "/.well-known/jwks.json", jwks::handle),
                route(Method.GET, "/healthz", health::live),
                route(Method.GET, "/readyz", health::ready),
                route(Method.GET, "/openapi.json", docs::document),
                route(Method.GET, "/docs", docs::page),
                route(Method.GET, "/docs/{file}", docs::file),
                route(Method.GET, "/", playground::page),
                route(Method.GET, "/playground/{file}", playground::file)));
        if (settings.metricsAccess() != MetricsAccess.OFF && !settings.metricsOwnPort()) {
            table.add(route(Method.GET, MetricsRoute.PATH, new MetricsRoute(metrics, settings.metricsAccess(), auth)::handle));
        }
        this.routes = table.stream().map(Registered::route).toList();
        HttpMeters meters = metrics.http();
        HttpRouting.Builder routing = HttpRouting.builder().addFilter((chain, req, res) -> observed(meters, chain, req, res));
        for (Registered r : table) {
            routing.route(r.route().method(), r.route().template(), r.handler());
        }
        routing.any(this::unrouted).error(Throwable.class, ErrorMapper::handle);

        this.server = WebServer.builder()
                .host(settings.host())
                .port(settings.port())
                // Our own limit, checked in the submit handler, answers first with a clear message;
                // this one only stops a body nobody reads from being buffered without bound.
                .maxPayloadSize(Math.max(settings.maxBodyBytes(), openAi.maxEditBytes()) + 1)
                .directHandlers(d -> {
                    for (var type : io.helidon.http.DirectHandler.EventType.values()) {
                        d.addHandler(type, ErrorMapper.directHandler(settings.maxBodyBytes()));
                    }
                })
                .errorHandling(e -> e.includeEntity(false))
                // Helidon 4.5.0 keeps a connection open after answering "Connection: close"
                // (helidon-io/helidon#12324, fixed in later 4.x); idle connections are closed
                // after this long instead of the default five minutes.
                .idleConnectionTimeout(IDLE_CONNECTION_TIMEOUT)
                // How often idle connections are looked for (default 2 min): also what bounds a
                // request line that never ends, which the request deadline cannot see.
                .idleConnectionPeriod(Duration.ofSeconds(5))
                .shutdownHook(false)
                // HTTP/1.1 only, with our deadline listening. Discovery would add a second HTTP/1
                // provider, and with two, a request line neither recognises is dropped unanswered.
                .protocolsDiscoverServices(false)
                .addProtocol(Http1Config.builder().addReceiveListener(deadline).addSendListener(deadline).build())
                .routing(routing)
                .build();
    }

    /**
     * What {@code GET .../response} answers now for the tenant's request, its links under
     * {@code base}: a webhook's payload. Thread-safe.
     */
    public WebhookBody.Response responseNow(String tenant, String requestId, String base) {
        return jobs.responseNow(tenant, requestId, base);
    }

    /** Starts listening; returns the bound port (useful with port 0). */
    public int start() {
        server.start();
        return server.port();
    }

    public int port() {
        return server.port();
    }

    /** Every route this server registers, in the order they are matched. */
    public List<Route> routes() {
        return routes;
    }

    private static Registered route(Method method, String template, Handler handler) {
        return new Registered(new Route(method, template), handler);
    }

    /**
     * Observes each request once: times it from here to its last byte under the template of the
     * route it matched (or {@link HttpMeters#UNMATCHED}: the raw path, with its ids, is never a
     * label), and writes its {@link AccessLog access line}.
     */
    private static void observed(HttpMeters meters, FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long started = System.nanoTime();
        AccessLog.Line line = AccessLog.begin(req); // null when access lines are off
        res.whenSent(() -> {
            int status = res.status().code();
            String matched = req.matchingPattern().orElse(""); // empty for the catch-all of unknown paths
            String route = matched.isEmpty() ? HttpMeters.UNMATCHED : matched;
            meters.request(req.prologue().method().text(), route, status, System.nanoTime() - started);
            if (status == 429) {
                meters.rateLimited();
            }
            if (line != null) {
                AccessLog.write(line, req, res, route, status);
            }
        });
        chain.proceed();
    }

    private void unrouted(ServerRequest req, ServerResponse res) {
        String path = req.path().path() == null ? "" : req.path().path();
        Method method = req.prologue().method();
        if (method == Method.PUT && path.startsWith("/v1/queue/") && path.endsWith("/cancel")) {
            // an id with an encoded slash decodes into extra segments: still the cancel route's 404
            Responses.json(res, 404, Map.of("status", "NOT_FOUND"));
            return;
        }
        String allowed = routes.stream().filter(r -> r.matches(path)).map(r -> r.method().text()).distinct()
                .collect(Collectors.joining(", "));
        if (!allowed.isEmpty()) { // through the error edge, which gives OpenAI's routes their shape
            throw new ApiError(405, Map.of("detail", "Method " + method.text() + " is not allowed here; use " + allowed + "."),
                    Map.of("Allow", allowed));
        }
        Responses.json(res, 404, Map.of("detail", "Not found"));
    }

    /** Stops the server: open status streams end first, then connections close. */
    @Override
    public void close() {
        events.closeAll();
        server.stop();
        deadline.close();
    }

    /**
     * {@code /healthz} and {@code /readyz}. Ready needs the store and the blob store to answer and,
     * where a watermark applies, free disk space at or above it ({@code checks.disk}, with a
     * {@code reason} while low).
     */
    private record Health(JobStore store, BlobStore blobs, FreeDiskGate disk) {

        void live(ServerRequest req, ServerResponse res) {
            Responses.json(res, 200, Map.of("status", "ok"));
        }

        void ready(ServerRequest req, ServerResponse res) {
            boolean storeOk = store.ping();
            boolean blobsOk = blobs.ping();
            boolean diskLow = disk.low();
            boolean ok = storeOk && blobsOk && !diskLow;
            Map<String, Object> checks = new java.util.LinkedHashMap<>();
            checks.put("store", storeOk ? "ok" : "failing");
            checks.put("blobs", blobsOk ? "ok" : "failing");
            if (disk.watching()) {
                checks.put("disk", diskLow ? "low" : "ok");
            }
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            body.put("status", ok ? "ok" : "unavailable");
            body.put("checks", checks);
            if (diskLow) {
                body.put("reason", disk.reason());
            }
            Responses.json(res, ok ? 200 : 503, body);
        }
    }
}
