package io.genqueue.http;

import io.genqueue.queue.RequestIds;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access line: one per HTTP request, written by the filter in front of the routes when the
 * answer is sent, at info on the logger {@value #LOGGER} (so {@code GENQUEUE_LOG_LEVEL=warn} turns
 * it off). Its fields: {@code method}, {@code route} (the template the request matched, or
 * {@code UNMATCHED}: never the raw path, whose ids and query string, such as a {@code fal_webhook}
 * URL with its token, stay out of the log), {@code status}, {@code duration_ms},
 * {@code request_id} (the answer's {@code X-Request-Id}, or the well-formed id of the path) and
 * {@code tenant} (once the key was accepted). Never a header, so never a key.
 *
 * <p>When the logger is off, {@link #begin} returns null and nothing is built or registered.
 */
final class AccessLog {

    static final String LOGGER = "io.genqueue.access";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    /** What a request's handlers tell its access line; registered in the request's context, read when the answer is sent. */
    static final class Line {
        private volatile String tenant;
        private final long started = System.nanoTime();

        private Line() {
        }
    }

    private static final HeaderName REQUEST_ID = HeaderNames.create("X-Request-Id");

    private AccessLog() {
    }

    /** The id a request's path names, when it is one ours could be (a client's garbage is not logged). */
    private static String pathId(ServerRequest req) {
        var params = req.path().pathParameters();
        String id = params.contains("request_id") ? params.get("request_id") : null;
        return id != null && RequestIds.wellFormed(id) ? id : null;
    }

    /** A line for this request, or null when access lines are off. */
    static Line begin(RoutingRequest req) {
        if (!log.isInfoEnabled()) {
            return null;
        }
        Line line = new Line();
        req.context().register(line);
        return line;
    }

    /** Notes the tenant of the key that authenticated {@code req}, for its access line (if there is one). */
    static void tenant(ServerRequest req, String tenant) {
        if (log.isInfoEnabled()) {
            req.context().get(Line.class).ifPresent(line -> line.tenant = tenant);
        }
    }

    /** Writes the line of a request whose answer was sent. */
    static void write(Line line, ServerRequest req, ServerResponse res, String route, int status) {
        double ms = Math.round((System.nanoTime() - line.started) / 10_000.0) / 100.0;
        String method = req.prologue().method().text();
        String requestId = res.headers().first(REQUEST_ID).orElseGet(() -> pathId(req));
        String tenant = line.tenant;
        log.atInfo().setMessage(() -> method + " " + route + " " + status + " " + ms + " ms"
                        + (requestId == null ? "" : " request " + requestId) + (tenant == null ? "" : " tenant " + tenant))
                .addKeyValue("method", method)
                .addKeyValue("route", route)
                .addKeyValue("status", status)
                .addKeyValue("duration_ms", ms)
                .addKeyValue("request_id", requestId)
                .addKeyValue("tenant", tenant)
                .log();
    }
}
