package io.genqueue.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The client's one HTTP exchange: every call has a timeout, and is retried with {@link Backoff}
 * on connection failures (refused, reset, dropped, timed out), on {@code 429}, and on a
 * {@code 503} that is not a request's failure, waiting at least what {@code Retry-After} asks.
 *
 * <p>Retrying is safe for every call the client makes: reads and cancels are idempotent, and a
 * submit carries an {@code Idempotency-Key} that its retries repeat, so a submit whose answer was
 * lost after the server stored it returns the stored request instead of making a second one.
 */
final class Transport {

    private final HttpClient http;
    private final String authorization;
    private final Duration requestTimeout;
    private final int maxAttempts;
    private final Backoff backoff;
    private final Duration longestRetryAfter;

    Transport(HttpClient http, String apiKey, Duration requestTimeout, int maxAttempts, Backoff backoff, Duration longestRetryAfter) {
        this.http = http;
        this.authorization = apiKey == null ? null : "Bearer " + apiKey;
        this.requestTimeout = requestTimeout;
        this.maxAttempts = maxAttempts;
        this.backoff = backoff;
        this.longestRetryAfter = longestRetryAfter;
    }

    /** A request to {@code uri} with the timeout, and the API key when {@code authorized}. */
    HttpRequest.Builder request(URI uri, boolean authorized) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(requestTimeout);
        if (authorized && authorization != null) {
            b.header("Authorization", authorization);
        }
        return b;
    }

    /** The answer, read whole, after the retries; an error answer is returned, not thrown. */
    Answer send(HttpRequest request) {
        return exchange(request, false).answer();
    }

    /**
     * The body of a {@code 200} answer, left open for reading as it arrives (the status stream);
     * any other answer is returned read whole.
     */
    Exchange open(HttpRequest request) {
        return exchange(request, true);
    }

    /** Either an open {@code 200} body, or a whole answer. */
    record Exchange(InputStream body, Answer answer) {
    }

    private Exchange exchange(HttpRequest request, boolean keepOpen) {
        for (int attempt = 1; ; attempt++) {
            Answer answer;
            try {
                HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                if (keepOpen && response.statusCode() == 200) {
                    return new Exchange(response.body(), null);
                }
                try (InputStream in = response.body()) {
                    answer = new Answer(response.statusCode(), in.readAllBytes(), response.headers());
                }
            } catch (IOException e) {
                if (attempt >= maxAttempts) {
                    throw new UnreachableException("no answer from " + request.uri().getScheme() + "://" + request.uri().getAuthority()
                            + " (" + request.method() + " " + request.uri().getPath() + ") after " + attempt + " attempts: " + describe(e), e);
                }
                pause(backoff.delayAfter(attempt, null));
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UnreachableException("interrupted during " + request.method() + " " + request.uri().getPath(), e);
            }
            if (!answer.retryable() || attempt >= maxAttempts) {
                return new Exchange(null, answer);
            }
            Duration asked = answer.retryAfter().orElse(null);
            if (asked != null && asked.compareTo(longestRetryAfter) > 0) {
                return new Exchange(null, answer); // longer than a caller would want to be blocked: theirs to decide
            }
            pause(backoff.delayAfter(attempt, asked));
        }
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    private static void pause(Duration delay) {
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreachableException("interrupted while waiting to retry", e);
        }
    }
}
