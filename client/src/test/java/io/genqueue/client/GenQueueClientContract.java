package io.genqueue.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.testing.TestImages;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The client against the real server over HTTP, on each store ({@link GenQueueClientSqliteTest},
 * {@link GenQueueClientPostgresTest}); faults come from a {@link FaultyProxy} between them.
 */
abstract class GenQueueClientContract {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String POST_SUBMIT = "POST /v1/queue/nano_banana HTTP/1.1";

    abstract LiveServer.Store store();

    private LiveServer server(Map<String, String> settings) {
        return LiveServer.start(store(), settings, new ScriptedModel());
    }

    private static SubmitRequest prompt(String prompt) {
        return SubmitRequest.builder(prompt).build();
    }

    @Test
    void subscribe_returns_the_images_at_the_size_and_format_asked_for() {
        try (LiveServer server = server(Map.of()); GenQueueClient client = server.client()) {
            Result result = client.subscribe(SubmitRequest.builder("a lighthouse at dusk").aspectRatio(AspectRatio.LANDSCAPE_16_9)
                    .numImages(2).outputFormat(OutputFormat.JPEG).build(), WAIT);

            assertThat(result.images()).hasSize(2).allSatisfy(image -> {
                assertThat(image.contentType()).isEqualTo("image/jpeg");
                assertThat(image.width()).isEqualTo(1344);
                assertThat(image.height()).isEqualTo(768);
            });
            byte[] bytes = client.download(result.images().get(0));
            assertThat(SubmitRequest.imageType(bytes)).isEqualTo("jpeg");
            assertThat(bytes).hasSize((int) result.images().get(0).fileSize());
            assertThat(result.description()).isNotEmpty();
        }
    }

    @Test
    void submit_status_and_result_follow_one_request_to_its_images() {
        try (LiveServer server = server(Map.of()); GenQueueClient client = server.client()) {
            Submitted submitted = client.submit(prompt("a red bicycle"));

            assertThat(submitted.requestId()).startsWith("req_");
            assertThat(submitted.statusUrl()).isEqualTo(server.base + "/v1/queue/nano_banana/requests/" + submitted.requestId() + "/status");
            Status done = client.await(submitted.requestId(), WAIT, s -> { });
            assertThat(done.succeeded()).isTrue();
            Status read = client.status(submitted.requestId(), true);
            assertThat(read.state()).isEqualTo(Status.State.COMPLETED);
            assertThat(read.logs()).isNotEmpty();
            assertThat(read.inferenceTimeSeconds()).isNotNull();
            assertThat(client.result(submitted.requestId()).images()).hasSize(1);
        }
    }

    @Test
    void the_stream_iterates_the_statuses_from_the_queue_to_completed() {
        try (LiveServer server = server(Map.of()); GenQueueClient client = server.client()) {
            String id = client.submit(prompt("a quiet harbour")).requestId();
            List<Status> seen = new ArrayList<>();
            try (StatusEvents events = client.stream(id)) {
                events.forEachRemaining(seen::add);
            }

            assertThat(seen).isNotEmpty().allSatisfy(s -> assertThat(s.requestId()).isEqualTo(id));
            assertThat(seen.getLast().state()).isEqualTo(Status.State.COMPLETED);
            assertThat(seen.subList(0, seen.size() - 1)).noneMatch(Status::isCompleted);
            List<Status> heard = new CopyOnWriteArrayList<>();
            assertThat(client.stream(id, heard::add).succeeded()).isTrue();
            assertThat(heard).hasSize(1); // a completed request's stream is its one completed event
        }
    }

    @Test
    void a_422_answer_carries_each_fields_message_and_location() {
        try (LiveServer server = server(Map.of()); GenQueueClient client = server.client()) {
            // well-formed as a data URI, so the client sends it; the server finds it is no image
            SubmitRequest request = SubmitRequest.builder("a cat").imageUrl("data:image/png;base64,AAAAAAAA").build();

            assertThatThrownBy(() -> client.submit(request))
                    .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                        assertThat(e.fromServer()).isTrue();
                        assertThat(e.fieldErrors()).singleElement().satisfies(f -> {
                            assertThat(f.loc()).containsExactly("body", "image_urls", 0);
                            assertThat(f.msg()).isNotBlank();
                        });
                    });
        }
    }

    @Test
    void a_request_the_model_refuses_throws_its_error_types_exception_with_the_field_message() {
        try (LiveServer server = server(Map.of()); GenQueueClient client = server.client()) {
            assertThatThrownBy(() -> client.subscribe(prompt("a [content] scene"), WAIT))
                    .isInstanceOfSatisfying(RequestFailedException.ContentPolicyViolation.class, e -> {
                        assertThat(e.errorTypeWire()).isEqualTo("content_policy_violation");
                        assertThat(e.error()).contains("blocked");
                        assertThat(e.fieldErrors()).singleElement().satisfies(f -> assertThat(f.loc()).first().isEqualTo("body"));
                    });
            assertThatThrownBy(() -> client.subscribe(prompt("an [error] scene"), WAIT))
                    .isInstanceOfSatisfying(RequestFailedException.ProviderError.class,
                            e -> assertThat(e.error()).contains("INVALID_ARGUMENT"));
        }
    }

    @Test
    void a_cancelled_request_is_cancelled_once_and_its_result_throws_cancelled() {
        try (LiveServer server = server(Map.of("GENQUEUE_WORKERS", "0")); GenQueueClient client = server.client()) {
            Submitted submitted = client.submit(prompt("never runs"));
            assertThat(client.status(submitted.requestId()).queuePosition()).isZero();
            assertThatThrownBy(() -> client.result(submitted.requestId())).isInstanceOf(HttpException.BadRequest.class);

            assertThat(client.cancel(submitted.requestId())).isEqualTo(CancelOutcome.CANCELLATION_REQUESTED);
            assertThat(client.cancel(submitted.requestId())).isEqualTo(CancelOutcome.ALREADY_COMPLETED);
            Status status = client.status(submitted.requestId());
            assertThat(status.errorType()).contains(ErrorType.CANCELLED);
            assertThatThrownBy(() -> client.result(submitted.requestId())).isInstanceOf(RequestFailedException.Cancelled.class);
        }
    }

    @Test
    void an_unknown_request_is_not_found_and_a_wrong_key_is_unauthorized_without_the_key_in_the_message() {
        try (LiveServer server = server(Map.of()); GenQueueClient client = server.client();
                GenQueueClient stranger = server.client(server.base).apiKey("gq_not_a_real_key_1234567890").build()) {
            assertThatThrownBy(() -> client.status("req_01jdx8c2m1w4n6q8s0t2v4x6z8")).isInstanceOf(HttpException.NotFound.class);
            assertThatThrownBy(() -> client.cancel("req_01jdx8c2m1w4n6q8s0t2v4x6z8")).isInstanceOf(HttpException.NotFound.class);
            assertThatThrownBy(() -> stranger.submit(prompt("a cat")))
                    .isInstanceOf(HttpException.Unauthorized.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("gq_not_a_real_key"));
            assertThat(stranger.toString()).doesNotContain("gq_not_a_real_key");
        }
    }

    @Test
    void a_submit_whose_answer_is_lost_after_the_server_stored_it_makes_one_request_not_two() {
        try (LiveServer server = server(Map.of("GENQUEUE_WORKERS", "0"));
                FaultyProxy proxy = FaultyProxy.inFrontOf(server.base,
                        (line, n) -> n == 0 ? FaultyProxy.Action.DROP_ANSWER : FaultyProxy.Action.FORWARD);
                GenQueueClient client = server.client(proxy.base()).build()) {
            Submitted submitted = client.submit(prompt("a lighthouse"));

            assertThat(proxy.requests).containsExactly(POST_SUBMIT, POST_SUBMIT);
            assertThat(proxy.dropped).singleElement().asString().contains("200").contains(submitted.requestId());
            // the retry got the stored request back; a request submitted now has only that one ahead of it
            try (GenQueueClient direct = server.client()) {
                assertThat(direct.submit(prompt("another lighthouse")).queuePosition()).isEqualTo(1);
            }
        }
    }

    @Test
    void a_429_is_waited_out_for_as_long_as_its_retry_after_asks_and_the_submit_goes_through() {
        String limited = "{\"detail\":\"Rate limit exceeded for this key.\"}";
        try (LiveServer server = server(Map.of());
                FaultyProxy proxy = FaultyProxy.inFrontOf(server.base, (line, n) -> n == 0
                        ? FaultyProxy.Action.answer(429, "Retry-After: 1\r\n", limited) : FaultyProxy.Action.FORWARD);
                GenQueueClient client = server.client(proxy.base()).build()) {
            Submitted submitted = client.submit(prompt("a lighthouse"));

            assertThat(submitted.requestId()).startsWith("req_");
            assertThat(proxy.requests).containsExactly(POST_SUBMIT, POST_SUBMIT);
        }
    }

    @Test
    void the_servers_own_rate_limit_is_waited_out_and_every_submit_goes_through_once() {
        try (LiveServer server = server(Map.of("GENQUEUE_WORKERS", "0"))) {
            String limited = server.newKey("metered", new io.genqueue.auth.KeyLimits(1, 1, 0, 0)); // 1 request/s, burst 1
            try (FaultyProxy proxy = FaultyProxy.inFrontOf(server.base, (line, n) -> FaultyProxy.Action.FORWARD);
                    GenQueueClient client = GenQueueClient.builder().baseUrl(proxy.base()).apiKey(limited)
                            .backoff(Duration.ofMillis(10), Duration.ofMillis(100)).build()) {
                Submitted first = client.submit(prompt("a lighthouse"));
                Submitted second = client.submit(prompt("another lighthouse")); // the bucket is empty: 429, Retry-After 1

                assertThat(second.requestId()).isNotEqualTo(first.requestId());
                assertThat(second.queuePosition()).as("two jobs, not three: the refused try stored nothing").isEqualTo(1);
                assertThat(proxy.requests).as("the second submit was refused at least once, then went through")
                        .hasSizeGreaterThanOrEqualTo(3).allMatch(POST_SUBMIT::equals);
            }
        }
    }

    @Test
    void a_429_that_outlasts_the_retries_throws_rate_limited_with_its_retry_after() {
        String limited = "{\"detail\":\"Rate limit exceeded for this key.\"}";
        try (LiveServer server = server(Map.of());
                FaultyProxy proxy = FaultyProxy.inFrontOf(server.base, (line, n) -> FaultyProxy.Action.answer(429, "Retry-After: 3600\r\n", limited));
                GenQueueClient client = server.client(proxy.base()).build()) {
            assertThatThrownBy(() -> client.submit(prompt("a lighthouse")))
                    .isInstanceOfSatisfying(HttpException.RateLimited.class,
                            e -> assertThat(e.retryAfter()).contains(Duration.ofHours(1)));
            assertThat(proxy.requests).hasSize(1); // an hour is longer than a call waits: thrown at once
        }
    }

    @Test
    void a_503_from_an_overloaded_server_is_retried_but_a_requests_provider_failure_is_not() {
        try (LiveServer server = server(Map.of());
                FaultyProxy proxy = FaultyProxy.inFrontOf(server.base, (line, n) -> n < 2
                        ? FaultyProxy.Action.answer(503, "", "{\"detail\":\"Storage is unavailable; try again shortly.\"}")
                        : FaultyProxy.Action.FORWARD);
                GenQueueClient client = server.client(proxy.base()).build()) {
            assertThat(client.submit(prompt("a lighthouse")).requestId()).startsWith("req_");
            assertThat(proxy.requests).hasSize(3);
        }
    }

    @Test
    void subscribe_falls_back_to_polling_when_the_status_stream_is_cut() {
        try (LiveServer server = server(Map.of());
                FaultyProxy proxy = FaultyProxy.inFrontOf(server.base, (line, n) -> line.contains("/status/stream")
                        ? FaultyProxy.Action.REFUSE : FaultyProxy.Action.FORWARD);
                GenQueueClient client = server.client(proxy.base()).maxAttempts(2).build()) {
            Result result = client.subscribe(prompt("a lighthouse"), WAIT);

            assertThat(result.images()).hasSize(1);
            assertThat(proxy.requests).anyMatch(l -> l.contains("/status/stream")).anyMatch(l -> l.contains("/status?logs=1"));
        }
    }

    @Test
    void a_wait_that_runs_out_throws_wait_timeout_and_leaves_the_request_queued() {
        try (LiveServer server = server(Map.of("GENQUEUE_WORKERS", "0")); GenQueueClient client = server.client()) {
            assertThatThrownBy(() -> client.subscribe(prompt("never runs"), Duration.ofMillis(300)))
                    .isInstanceOfSatisfying(WaitTimeoutException.class, e -> assertThat(client.status(e.requestId()).state())
                            .isEqualTo(Status.State.IN_QUEUE));
        }
    }

    @Test
    void a_server_that_does_not_answer_is_unreachable_after_the_retries() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (GenQueueClient client = GenQueueClient.builder().baseUrl("http://127.0.0.1:" + closedPort).apiKey("gq_x")
                .maxAttempts(3).backoff(Duration.ofMillis(1), Duration.ofMillis(5)).build()) {
            assertThatThrownBy(() -> client.submit(prompt("a cat")))
                    .isInstanceOf(UnreachableException.class)
                    .hasMessageContaining("after 3 attempts");
        }
    }

    @Test
    void reference_images_from_files_and_urls_reach_the_model() throws IOException {
        try (LiveServer server = server(Map.of()); GenQueueClient client = server.client()) {
            java.nio.file.Path file = java.nio.file.Files.createTempFile("ref", ".png");
            java.nio.file.Files.write(file, TestImages.png(300, 200));
            Result result = client.subscribe(SubmitRequest.builder("like this one").referenceImage(file).build(), WAIT);

            assertThat(result.images()).singleElement().satisfies(i -> assertThat(i.width()).isGreaterThan(i.height()));
        }
    }
}
