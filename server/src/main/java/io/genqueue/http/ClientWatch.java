package io.genqueue.http;

import io.helidon.common.buffers.DataReader;
import io.helidon.webserver.ConnectionContext;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices a client closing its connection while the handler of its request waits (OpenAI's images
 * routes wait for their job): a virtual thread blocks reading the connection, whose request has been
 * read whole, and runs {@code onGone} when the read ends the stream (or fails). Bytes a client
 * sends meanwhile (a pipelined request) stay in the connection's buffer, and the watch ends there.
 *
 * <p>{@link #close} stops a read still blocked by interrupting it, which closes the connection:
 * the answer must be written before, and should say {@code Connection: close}. Not thread-safe
 * beyond that: one handler owns it.
 */
final class ClientWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClientWatch.class);

    private final Thread reader;
    private volatile boolean gone;
    private volatile boolean reading = true;

    private ClientWatch(Optional<ConnectionContext> connection, Runnable onGone) {
        this.reader = connection.map(ctx -> Thread.ofVirtual().name("genqueue-client-watch").start(() -> watch(ctx, onGone)))
                .orElse(null);
    }

    /** Watches {@code connection} (nothing, when empty); {@code onGone} runs on the watch's thread. */
    static ClientWatch start(Optional<ConnectionContext> connection, Runnable onGone) {
        return new ClientWatch(connection, onGone);
    }

    private void watch(ConnectionContext ctx, Runnable onGone) {
        DataReader data = ctx.dataReader();
        try {
            if (data.available() == 0) {
                data.pullData(); // blocks until the client sends more, closes, or the watch is closed
            }
            return; // the client sent more: it is still there
        } catch (DataReader.InsufficientDataAvailableException | java.io.UncheckedIOException e) {
            if (!reading) {
                return; // our own close
            }
        } catch (RuntimeException e) {
            if (!reading) {
                return;
            }
            log.debug("reading a waiting client's connection failed: {}", e.toString());
        } finally {
            reading = false;
        }
        gone = true;
        onGone.run();
    }

    /** Whether the client closed its connection. */
    boolean gone() {
        return gone;
    }

    @Override
    public void close() {
        if (reader == null) {
            return;
        }
        if (reading) {
            reading = false;
            reader.interrupt();
        }
        try {
            reader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
