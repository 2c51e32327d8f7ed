package io.genqueue.provider.fal;

import io.genqueue.provider.BoundedBody;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP exchange, bounded in time (from sending to the last byte of the body) and in body size,
 * and abandoned at once when the calling thread is interrupted: the exchange is cancelled, which
 * closes its connection, and {@link InterruptedException} is thrown.
 */
final class BoundedHttp {

    /** A complete answer. */
    record Answer(int status, byte[] body, HttpHeaders headers) {
    }

    private BoundedHttp() {
    }

    /**
     * @throws TimeoutException when the whole exchange took longer than {@code timeout}
     * @throws IOException when the connection failed or the body exceeded {@code maxBytes}
     */
    static Answer send(HttpClient client, HttpRequest request, long maxBytes, Duration timeout)
            throws IOException, TimeoutException, InterruptedException {
        CompletableFuture<HttpResponse<byte[]>> future = client.sendAsync(request, BoundedBody.handler(maxBytes));
        try {
            HttpResponse<byte[]> response = future.get(Math.max(1, timeout.toNanos()), TimeUnit.NANOSECONDS);
            return new Answer(response.statusCode(), response.body(), response.headers());
        } catch (InterruptedException | TimeoutException e) {
            future.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(cause == null ? "the exchange failed" : cause.toString(), cause);
        }
    }
}
