package io.genqueue.http;

import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client gets {@code timeout} to send a whole request, from its first byte until the answer
 * starts; then its connection is closed. Without it, a client that sends part of a request head,
 * or fewer body bytes than its {@code Content-Length}, holds a connection forever: Helidon 4.5
 * reads through NIO channels, where the socket read timeout has no effect.
 *
 * <p>It listens to the HTTP/1 connection: a request line arms the deadline (one map entry per
 * connection, holding the connection's thread, which is the one reading), the response status
 * disarms it. (A request line that never ends is Helidon's own idle timeout's to cut: the
 * connection is still between requests then.) Once a second a sweeper interrupts the thread of every connection
 * armed longer than the timeout; an interrupt closes the NIO channel its read is blocked on, which
 * ends the connection. A deadline is at most a second late, and nothing is scheduled per request.
 */
final class RequestDeadline implements Http1ConnectionListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RequestDeadline.class);
    private static final long SWEEP_MILLIS = 1000;

    private final long timeoutNanos;
    private final Map<ConnectionContext, Armed> armed = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("genqueue-request-deadline").daemon().factory());

    RequestDeadline(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** A request under way: since when, and the thread reading it. */
    private record Armed(long since, Thread reader) {
    }

    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        arm(ctx);
    }

    private void arm(ConnectionContext ctx) {
        if (!armed.containsKey(ctx)) {
            armed.putIfAbsent(ctx, new Armed(System.nanoTime(), Thread.currentThread()));
        }
    }

    @Override
    public void status(ConnectionContext ctx, Status status) {
        armed.remove(ctx);
    }

    /**
     * Called by a handler, on its connection's thread, once its whole request is read and it is about
     * to wait on purpose (OpenAI's images routes wait for their job): the deadline no longer applies
     * to this request. Returns the connection, for {@link ClientWatch}; empty when this thread
     * serves no armed connection.
     */
    Optional<ConnectionContext> release() {
        Thread current = Thread.currentThread();
        for (Map.Entry<ConnectionContext, Armed> entry : armed.entrySet()) {
            if (entry.getValue().reader() == current && armed.remove(entry.getKey(), entry.getValue())) {
                return Optional.of(entry.getKey());
            }
        }
        return Optional.empty();
    }

    private void sweep() {
        long now = System.nanoTime();
        armed.forEach((ctx, request) -> {
            if (now - request.since() > timeoutNanos && armed.remove(ctx, request)) {
                log.debug("closing connection {}: request not received within the deadline", ctx.childSocketId());
                request.reader().interrupt();
            }
        });
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
