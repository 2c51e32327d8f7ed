package io.genqueue.http;

import io.genqueue.auth.KeyStore;
import io.genqueue.metrics.Metrics;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http1.Http1Config;
import java.time.Duration;
import java.util.Map;

/**
 * {@code GET /metrics} alone, on a port of its own ({@code GENQUEUE_METRICS_PORT}): scrapers reach it
 * without reaching the API, and a process without HTTP (role {@code worker}) can be scraped too.
 * Everything else on this port is a 404.
 */
public final class MetricsServer implements AutoCloseable {

    private final WebServer server;

    public MetricsServer(String host, int port, Metrics metrics, MetricsAccess access, KeyStore keys) {
        MetricsRoute route = new MetricsRoute(metrics, access, new Authenticator(keys));
        HttpRouting.Builder routing = HttpRouting.builder()
                .get(MetricsRoute.PATH, route::handle)
                .any((req, res) -> Responses.json(res, 404, Map.of("detail", "Not found")))
                .error(Throwable.class, ErrorMapper::handle);
        server = WebServer.builder()
                .host(host)
                .port(port)
                .shutdownHook(false)
                .protocolsDiscoverServices(false) // HTTP/1.1 only, as the API's port (see HttpApi)
                .addProtocol(Http1Config.create())
                .idleConnectionTimeout(HttpApi.IDLE_CONNECTION_TIMEOUT)
                .idleConnectionPeriod(Duration.ofSeconds(5))
                .errorHandling(e -> e.includeEntity(false))
                .routing(routing)
                .build();
    }

    /** Starts listening; returns the bound port (useful with port 0). */
    public int start() {
        server.start();
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
    }
}
