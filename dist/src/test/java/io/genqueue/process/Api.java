package io.genqueue.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small HTTP client of one running server, with one key. Methods throw IOException when the server is unreachable. */
final class Api {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String MODEL_PATH = "/v1/queue/nano_banana";

    final String base;
    final String key;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    Api(String base, String key) {
        this.base = base;
        this.key = key;
    }

    /** An answer, its body parsed as JSON on demand. */
    record Response(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + body, e);
            }
        }
    }

    static String statusPath(String id) {
        return MODEL_PATH + "/requests/" + id + "/status";
    }

    static String responsePath(String id) {
        return MODEL_PATH + "/requests/" + id + "/response";
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : base + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + key);
    }

    Response submit(String json) throws IOException, InterruptedException {
        return send(request(MODEL_PATH).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** {@link #submit} with {@code ?fal_webhook=}: {@code encodedWebhookUrl} is already URL-encoded. */
    Response submitWithWebhook(String json, String encodedWebhookUrl) throws IOException, InterruptedException {
        return send(request(MODEL_PATH + "?fal_webhook=" + encodedWebhookUrl).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** {@code PUT .../requests/{id}/cancel}. */
    Response cancel(String id) throws IOException, InterruptedException {
        return send(request(MODEL_PATH + "/requests/" + id + "/cancel").PUT(HttpRequest.BodyPublishers.noBody()).build());
    }

    Response get(String path) throws IOException, InterruptedException {
        return send(request(path).GET().build());
    }

    HttpResponse<byte[]> download(String url) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private Response send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    /** {@link #submit} for a server that is expected to be up. */
    String submitOk(String json) {
        Response r = unchecked(() -> submit(json));
        if (r.status() != 200) {
            throw new AssertionError("submit answered " + r.status() + ": " + r.body());
        }
        return r.json().get("request_id").asText();
    }

    /** {@link #get} for a server that is expected to be up. */
    Response getOk(String path) {
        return unchecked(() -> get(path));
    }

    /** Polls the status (with logs) until COMPLETED, for at most 30 s. */
    JsonNode awaitCompleted(String id) {
        return Eventually.value(java.time.Duration.ofSeconds(30), id + " completed", () -> status(id),
                status -> status.path("status").asText().equals("COMPLETED"));
    }

    JsonNode status(String id) {
        Response r = getOk(statusPath(id) + "?logs=1");
        if (r.status() != 200 && r.status() != 202) {
            throw new AssertionError("status of " + id + " answered " + r.status() + ": " + r.body());
        }
        return r.json();
    }

    interface Call<T> {
        T call() throws IOException, InterruptedException;
    }

    static <T> T unchecked(Call<T> call) {
        try {
            return call.call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
