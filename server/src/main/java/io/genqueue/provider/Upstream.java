package io.genqueue.provider;

import io.genqueue.generation.ErrorType;
import io.genqueue.image.Units;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one way an adapter talks to its provider: an HTTP exchange bounded in time (from sending to
 * the last byte of the body, by a {@link Deadline}) and in size (a larger body is cut off and its
 * connection closed instead of filling the heap), abandoned at once when the calling thread is
 * interrupted (the exchange is cancelled, which closes its connection so the provider sees the
 * abort, and {@link InterruptedException} is thrown).
 *
 * <p>Every transport failure comes out as a retryable {@link ProviderException}: no complete
 * answer in time, a refused or timed-out connect, a broken connection are
 * {@link ErrorType#PROVIDER_UNAVAILABLE}; a body over the cap is {@link ErrorType#PROVIDER_ERROR}.
 * A complete answer, whatever its status, is returned for the adapter to read: what a status
 * means differs between providers. Messages name the host and never a header's value, so no key.
 *
 * <p>HTTP/1.1 only: cancelling an exchange then closes its connection (an HTTP/2 stream reset
 * would leave the connection, and the provider's work, running). Thread-safe: one client for
 * every call.
 */
public final class Upstream {

    /** A complete answer. */
    public record Answer(int status, HttpHeaders headers, byte[] body) {
    }

    /**
     * When an exchange must be over, and the budget it came from (for the message when it is
     * missed). {@link #after} starts a budget now; {@link #atMost} narrows it for one exchange.
     */
    public record Deadline(long nanoTime, Duration budget) {

        public static Deadline after(Duration budget) {
            return new Deadline(System.nanoTime() + budget.toNanos(), budget);
        }

        /** The time left, zero once passed. */
        public Duration left() {
            return Duration.ofNanos(Math.max(0, nanoTime - System.nanoTime()));
        }

        public boolean passed() {
            return nanoTime - System.nanoTime() <= 0;
        }

        /** This deadline, or {@code cap} from now when that comes first. */
        public Deadline atMost(Duration cap) {
            Deadline capped = after(cap);
            return capped.nanoTime - nanoTime < 0 ? capped : this;
        }
    }

    private final HttpClient client;

    private Upstream(HttpClient client) {
        this.client = client;
    }

    /** For a provider's API: no redirects are followed, so a key never goes to another host. */
    public static Upstream api(Duration connectTimeout) {
        return new Upstream(builder(connectTimeout).followRedirects(HttpClient.Redirect.NEVER).build());
    }

    /** For public files (generated images on a CDN): redirects are followed; send no key through it. */
    public static Upstream files(Duration connectTimeout) {
        return new Upstream(builder(connectTimeout).followRedirects(HttpClient.Redirect.NORMAL).build());
    }

    private static HttpClient.Builder builder(Duration connectTimeout) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Objects.requireNonNull(connectTimeout, "connectTimeout"));
    }

    /**
     * Sends {@code request} and waits for its whole answer.
     *
     * @throws ProviderException when no complete answer of at most {@code maxBytes} came by the deadline
     * @throws InterruptedException when the thread was interrupted; the exchange is cancelled
     */
    public Answer send(HttpRequest request, long maxBytes, Deadline deadline) throws InterruptedException {
        return start(request, maxBytes).await(deadline);
    }

    /** Starts an exchange without waiting, for calls made side by side; {@link Exchange#await} collects it. */
    public Exchange start(HttpRequest request, long maxBytes) {
        return new Exchange(request.uri(), client.sendAsync(request, BoundedBody.handler(maxBytes)));
    }

    /** An exchange under way. */
    public static final class Exchange {
        private final URI uri;
        private final CompletableFuture<HttpResponse<byte[]>> response;

        private Exchange(URI uri, CompletableFuture<HttpResponse<byte[]>> response) {
            this.uri = uri;
            this.response = response;
        }

        /**
         * Waits for the whole answer; on a missed deadline or an interrupt the exchange is cancelled.
         *
         * @throws ProviderException as {@link Upstream#send} does
         * @throws InterruptedException when the thread was interrupted, or the exchange cancelled
         */
        public Answer await(Deadline deadline) throws InterruptedException {
            try {
                HttpResponse<byte[]> done = response.get(Math.max(1, deadline.left().toNanos()), TimeUnit.NANOSECONDS);
                return new Answer(done.statusCode(), done.headers(), done.body());
            } catch (InterruptedException e) {
                cancel();
                throw e;
            } catch (TimeoutException e) {
                cancel();
                throw noAnswerWithin(deadline.budget(), e);
            } catch (CancellationException e) {
                throw new InterruptedException("the exchange with " + where() + " was cancelled");
            } catch (ExecutionException e) {
                throw failure(e.getCause() == null ? e : e.getCause());
            }
        }

        /** Aborts the exchange (closing its connection); nothing when it is over. */
        public void cancel() {
            response.cancel(true);
        }

        private ProviderException failure(Throwable failure) {
            Throwable t = failure;
            while (t instanceof CompletionException && t.getCause() != null) {
                t = t.getCause();
            }
            if (t instanceof BoundedBody.TooLargeException) {
                return ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                        "the answer from " + where() + " is " + t.getMessage(), null, t);
            }
            if (t instanceof HttpConnectTimeoutException) {
                return unavailable("could not connect to " + where() + " in time", t);
            }
            if (t instanceof HttpTimeoutException) {
                return unavailable("no complete answer from " + where() + " in time", t);
            }
            if (t instanceof ConnectException) {
                return unavailable("could not connect to " + where() + " (connection refused)", t);
            }
            if (t instanceof IOException) {
                return unavailable("the connection to " + where() + " failed before a complete answer (" + reason(t) + ")", t);
            }
            return ProviderException.retryable(ErrorType.PROVIDER_ERROR,
                    "the exchange with " + where() + " failed unexpectedly (" + t.getClass().getSimpleName() + ")", null, t);
        }

        private ProviderException noAnswerWithin(Duration budget, Exception cause) {
            return unavailable("no complete answer from " + where() + " within " + Units.duration(budget), cause);
        }

        private String where() {
            return uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
        }
    }

    private static ProviderException unavailable(String message, Throwable cause) {
        return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, message, null, cause);
    }

    /** An I/O failure in words: the JDK's message, which names no header, or what it means. */
    private static String reason(Throwable t) {
        String message = t.getMessage();
        if (message == null || message.isBlank()) {
            return t.getClass().getSimpleName();
        }
        if (message.contains("header parser received no bytes") || message.contains("EOF")) {
            return "closed without a response";
        }
        return message.length() > 200 ? message.substring(0, 200) + "…" : message;
    }
}
