package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.fal.client.ClientConfig;
import ai.fal.client.CredentialsResolver;
import ai.fal.client.Output;
import ai.fal.client.exception.FalException;
import ai.fal.client.http.CredentialsInterceptor;
import ai.fal.client.http.HttpClient;
import ai.fal.client.queue.QueueClient;
import ai.fal.client.queue.QueueClientImpl;
import ai.fal.client.queue.QueueResultOptions;
import ai.fal.client.queue.QueueStatus;
import ai.fal.client.queue.QueueStatusOptions;
import ai.fal.client.queue.QueueSubmitOptions;
import ai.fal.client.queue.QueueSubscribeOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.gson.JsonObject;
import io.genqueue.json.Json;
import io.genqueue.testing.Eventually;
import io.genqueue.webhook.FalReceiver;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import org.junit.jupiter.api.Test;

/**
 * fal's official Java client ({@code ai.fal.client:fal-client:0.7.1}) against a real server.
 *
 * <p>How the client is pointed here, and why it is more than "only the base URL": version 0.7.1
 * has no base-URL setting. Every queue URL is a string constant ({@code https://queue.fal.run/...}
 * in {@code QueueClientImpl}); {@link ClientConfig} offers only credentials and a {@code proxyUrl},
 * and the proxy mode sends <em>every</em> request to that one URL, the real target in an
 * {@code X-Fal-Target-Url} header (fal's server-proxy protocol, which this service does not
 * speak). {@code FalClient.withConfig} builds its own OkHttp client, with no way to add to it. So
 * these tests assemble the client from its public parts exactly as {@code FalClientImpl} does,
 * {@code new QueueClientImpl(new HttpClient(config, okHttp))} with the client's own
 * {@link CredentialsInterceptor}, plus one interceptor of ours that rewrites
 * {@code https://queue.fal.run/} to {@code <server>/v1/}. The subscribe flow is the three calls
 * {@code FalClient.subscribe} makes (submit, subscribeToStatus, result), made on that queue client.
 *
 * <p>The endpoint id the client is given is {@code queue/nano_banana}, not fal's own
 * {@code fal-ai/nano-banana}: the client submits to {@code <base>/<id>} but builds the status,
 * stream and result URLs from the id's first two segments only
 * ({@code <base>/<owner>/<app>/requests/<id>/...}), so with the base at {@code /v1} an id of two
 * segments, {@code queue/nano_banana}, lands on every route of {@code /v1/queue/nano_banana}.
 */
class FalClientTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String ENDPOINT = "queue/nano_banana";
    private static final Map<String, Object> INPUT = Map.of("prompt", "a lighthouse");

    /** The fal client's queue, sending to {@code server}; the paths it asks are kept in {@code asked}. */
    private static QueueClient falQueue(TestServer server, List<String> asked) {
        ClientConfig config = ClientConfig.withCredentials(CredentialsResolver.fromApiKey(server.key));
        OkHttpClient okHttp = new OkHttpClient.Builder()
                .addInterceptor(new CredentialsInterceptor(config))
                .addInterceptor(toServer(server.base, asked))
                .build();
        return new QueueClientImpl(new HttpClient(config, okHttp));
    }

    /**
     * Rewrites the client's hard-coded {@code https://queue.fal.run/} to {@code base/v1/}, the
     * path and query kept as they are. This is the part that is not a configuration option.
     */
    private static Interceptor toServer(String base, List<String> asked) {
        return chain -> {
            Request request = chain.request();
            HttpUrl url = request.url();
            assertThat(url.host()).isEqualTo("queue.fal.run");
            String query = url.encodedQuery() == null ? "" : "?" + url.encodedQuery();
            HttpUrl target = HttpUrl.get(base + "/v1" + url.encodedPath() + query);
            asked.add(request.method() + " " + target.encodedPath() + query.replaceAll("fal_webhook=[^&]*", "fal_webhook=..."));
            return chain.proceed(request.newBuilder().url(target).build());
        };
    }

    private static TestServer server(WebhookReceiver receiver) {
        return TestServer.start(Map.of("GENQUEUE_FETCH_ALLOW", receiver.hostPort()));
    }

    @Test
    void a_submit_with_the_clients_webhook_url_is_delivered_signed_with_the_id_the_client_got() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        try (WebhookReceiver receiver = WebhookReceiver.start();
                TestServer server = server(receiver)) {
            QueueClient queue = falQueue(server, asked);

            QueueStatus.InQueue submitted = queue.submit(ENDPOINT, QueueSubmitOptions.builder()
                    .input(INPUT).webhookUrl(receiver.url("/hook?token=t")).build());

            assertThat(submitted.getRequestId()).isNotBlank();
            assertThat(submitted.getStatus()).isEqualTo(QueueStatus.Status.IN_QUEUE);
            assertThat(submitted.getStatusUrl()).isEqualTo(server.base + TestServer.statusPath(submitted.getRequestId()));
            assertThat(asked).containsExactly("POST /v1/queue/nano_banana?fal_webhook=...");

            WebhookReceiver.Delivery delivery = Eventually.value(WAIT, "the webhook delivery", receiver::deliveries,
                    d -> !d.isEmpty()).getFirst();

            assertThat(delivery.target()).isEqualTo("/hook?token=t");
            JsonNode body = Json.parse(delivery.body());
            assertThat(body.get("request_id").asText()).isEqualTo(submitted.getRequestId());
            assertThat(body.get("status").asText()).isEqualTo("OK");
            assertThat(body.get("payload").get("images").size()).isEqualTo(1);
            assertThat(delivery.header("X-Fal-Webhook-Request-Id")).isEqualTo(submitted.getRequestId());
            FalReceiver verifier = FalReceiver.trusting(server.get("/.well-known/jwks.json").body());
            assertThat(verifier.accepts(delivery.headers(), delivery.body(), Instant.now().getEpochSecond())).isTrue();
        }
    }

    @Test
    void the_clients_subscribe_flow_without_a_webhook_gives_the_images() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        try (TestServer server = TestServer.start()) {
            QueueClient queue = falQueue(server, asked);
            List<QueueStatus.StatusUpdate> updates = new CopyOnWriteArrayList<>();

            // what FalClient.subscribe does, call for call
            QueueStatus.InQueue submitted = queue.submit(ENDPOINT, QueueSubmitOptions.withInput(INPUT));
            QueueStatus.Completed completed = queue.subscribeToStatus(ENDPOINT, QueueSubscribeOptions.builder()
                    .requestId(submitted.getRequestId()).logs(true).onQueueUpdate(updates::add).build());
            Output<JsonObject> result = queue.result(ENDPOINT, QueueResultOptions.withRequestId(completed.getRequestId()));

            assertThat(completed.getRequestId()).isEqualTo(submitted.getRequestId());
            assertThat(completed.getStatus()).isEqualTo(QueueStatus.Status.COMPLETED);
            assertThat(updates).isNotEmpty().last().isInstanceOf(QueueStatus.Completed.class);
            assertThat(result.getRequestId()).isEqualTo(submitted.getRequestId());
            JsonObject image = result.getData().getAsJsonArray("images").get(0).getAsJsonObject();
            assertThat(image.get("content_type").getAsString()).isEqualTo("image/png");
            assertThat(image.get("width").getAsInt()).isEqualTo(1024);
            TestServer.Response file = server.get(image.get("url").getAsString());
            assertThat(file.status()).isEqualTo(200);

            QueueStatus.StatusUpdate status = queue.status(ENDPOINT, QueueStatusOptions.withRequestId(submitted.getRequestId()));
            assertThat(status).isInstanceOf(QueueStatus.Completed.class);
            assertThat(((QueueStatus.Completed) status).getLogs()).isNull();

            String id = submitted.getRequestId();
            assertThat(asked).containsExactly(
                    "POST /v1/queue/nano_banana",
                    "GET /v1/queue/nano_banana/requests/" + id + "/status/stream?logs=1",
                    "GET /v1/queue/nano_banana/requests/" + id,
                    "GET /v1/queue/nano_banana/requests/" + id + "/status");
        }
    }

    @Test
    void the_client_sees_a_request_cancelled_through_its_cancel_url_as_completed_and_its_result_as_an_error() throws Exception {
        List<String> asked = new CopyOnWriteArrayList<>();
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0"))) {
            QueueClient queue = falQueue(server, asked);
            QueueStatus.InQueue submitted = queue.submit(ENDPOINT, QueueSubmitOptions.withInput(INPUT));

            QueueStatus.StatusUpdate queued = queue.status(ENDPOINT, QueueStatusOptions.withRequestId(submitted.getRequestId()));
            assertThat(queued).isInstanceOfSatisfying(QueueStatus.InQueue.class,
                    q -> assertThat(q.getQueuePosition()).isZero());

            // the 0.7.1 client has no cancel call: a caller PUTs the cancel_url it was given
            TestServer.Response cancel = server.send(server.request(submitted.getCancelUrl())
                    .setHeader("Authorization", "Key " + server.key)
                    .PUT(HttpRequest.BodyPublishers.noBody()).build());
            assertThat(cancel.status()).as(cancel.body()).isEqualTo(202);

            QueueStatus.StatusUpdate after = queue.status(ENDPOINT, QueueStatusOptions.withRequestId(submitted.getRequestId()));
            assertThat(after.getStatus()).isEqualTo(QueueStatus.Status.COMPLETED);
            assertThatThrownBy(() -> queue.result(ENDPOINT, QueueResultOptions.withRequestId(submitted.getRequestId())))
                    .isInstanceOf(FalException.class)
                    .hasMessageContaining("499");
        }
    }
}
