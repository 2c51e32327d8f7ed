package io.genqueue.http;

import io.genqueue.json.Json;
import io.genqueue.queue.JobEvents;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobView;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code GET .../status/stream}: server-sent events. One {@code data:} event with the status on
 * connect and one at every change, a {@code : keep-alive} comment after {@code keepAlive} (15 s by
 * default) of silence, and the stream closes after the {@code COMPLETED} event.
 *
 * <p>Changes are learnt from the store's events, and, because some changes raise no event (the
 * queue position moving, a log line), by re-reading the status every second; an event is sent only
 * when the status object differs from the last one sent.
 */
final class StatusStream {

    private static final Duration RECHECK = Duration.ofSeconds(1);
    private static final byte[] KEEP_ALIVE_COMMENT = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);

    private final JobLookup lookup;
    private final JobHandlers handlers;
    private final JobStore store;
    private final JobEvents events;
    private final Duration keepAlive;

    StatusStream(JobLookup lookup, JobHandlers handlers, JobStore store, JobEvents events, Duration keepAlive) {
        this.lookup = lookup;
        this.handlers = handlers;
        this.store = store;
        this.events = events;
        this.keepAlive = keepAlive;
    }

    void handle(ServerRequest req, ServerResponse res) throws IOException, InterruptedException {
        JobLookup.Caller caller = lookup.caller(req);
        JobView job = lookup.find(caller, req).orElseThrow(ApiError::notFound);
        Responses.requestId(res, job.id());
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        res.header("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
        try (JobEvents.Watch watch = events.watch(job.id()); OutputStream out = res.outputStream()) {
            byte[] last = send(out, handlers.statusBody(req, caller, job));
            long silentSince = System.nanoTime();
            while (!job.state().isTerminal() && !events.closed()) {
                watch.await(RECHECK.compareTo(keepAlive) < 0 ? RECHECK : keepAlive);
                job = store.find(caller.tenant(), job.id()).orElse(null);
                if (job == null) {
                    return; // the store no longer knows it: nothing more will change
                }
                byte[] next = Json.write(handlers.statusBody(req, caller, job));
                if (!Arrays.equals(next, last)) {
                    last = send(out, next);
                    silentSince = System.nanoTime();
                } else if (System.nanoTime() - silentSince >= keepAlive.toNanos()) {
                    out.write(KEEP_ALIVE_COMMENT);
                    out.flush();
                    silentSince = System.nanoTime();
                }
            }
        }
    }

    private static byte[] send(OutputStream out, Map<String, Object> status) throws IOException {
        return send(out, Json.write(status));
    }

    private static byte[] send(OutputStream out, byte[] json) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(json);
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return json;
    }
}
