package io.genqueue.http;

import io.genqueue.metrics.Metrics;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /metrics}: the Prometheus text of every meter, on the API's port or on a port of its own
 * ({@link MetricsServer}). Never served with {@link MetricsAccess#OFF} (the route is not registered).
 * The text holds no secret: labels are models, providers, outcomes and route templates (and tenant
 * names with the tenant label), never a key, an id or a query string.
 */
final class MetricsRoute {

    static final String PATH = "/metrics";
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final Metrics metrics;
    private final MetricsAccess access;
    private final Authenticator auth;

    MetricsRoute(Metrics metrics, MetricsAccess access, Authenticator auth) {
        this.metrics = metrics;
        this.access = access;
        this.auth = auth;
    }

    void handle(ServerRequest req, ServerResponse res) {
        if (access == MetricsAccess.ADMIN && !auth.isAdmin(req)) {
            throw ApiError.detail(403, "Metrics need an admin key.");
        }
        res.header(HeaderNames.CONTENT_TYPE, CONTENT_TYPE);
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.send(metrics.scrape());
    }
}
