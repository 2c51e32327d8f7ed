package io.genqueue.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A request's status as server-sent events: the status on connect and at every change, ending
 * after the {@link Status.State#COMPLETED} one. {@link #hasNext()} blocks until the next event.
 *
 * <p>{@link #close()} may be called from any thread, also while another blocks in
 * {@link #hasNext()}: that one then ends (false, or an {@link UnreachableException}).
 *
 * @throws UnreachableException from {@link #hasNext()} when the stream breaks before completion
 */
public final class StatusEvents implements Iterator<Status>, AutoCloseable {

    private final InputStream body;
    private final BufferedReader reader;
    private Status next;
    private boolean done;

    StatusEvents(InputStream body) {
        this.body = body;
        this.reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    @Override
    public boolean hasNext() {
        if (next != null) {
            return true;
        }
        if (done) {
            return false;
        }
        try {
            StringBuilder data = new StringBuilder();
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty()) {
                        next = Wire.status(Wire.read(data.toString().getBytes(StandardCharsets.UTF_8)));
                        done = next.isCompleted();
                        return true;
                    }
                } else if (line.startsWith("data:")) {
                    data.append(data.isEmpty() ? "" : "\n").append(line.substring(line.startsWith("data: ") ? 6 : 5));
                } // comments (": keep-alive") and other fields are not ours to act on
            }
        } catch (IOException e) {
            done = true;
            throw new UnreachableException("the status stream broke: " + e.getMessage(), e);
        }
        done = true;
        throw new UnreachableException("the status stream ended before the request completed", null);
    }

    @Override
    public Status next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Status s = next;
        next = null;
        return s;
    }

    /** Ends the stream (the raw body, so that a reader blocked in another thread is released). */
    @Override
    public void close() {
        try {
            body.close();
        } catch (IOException e) {
            // closing a stream we no longer read: nothing to do about it
        }
    }
}
