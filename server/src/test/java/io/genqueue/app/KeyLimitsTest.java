package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.testing.SettableClock;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Limits per key, set with {@code keys create|update} and enforced at submit over real HTTP, on a
 * stepped clock: a key's rate (429 with Retry-After), its tenant's requests queued or running and
 * its images per UTC day (exact under many concurrent submits), and the service's queue depth
 * (503). No worker runs, so what is submitted stays queued. {@link KeyLimitsClusterTest} runs the
 * same on two processes sharing one PostgreSQL schema.
 */
class KeyLimitsTest {

    static final String ONE = "{\"prompt\":\"a lighthouse\"}";
    static SettableClock clock;
    static TestServer server;
    /** Starts a server (or cluster) like the class's own, with {@code env} added: for the settings of the service. */
    static java.util.function.Function<Map<String, String>, TestServer> starter;

    @BeforeAll
    static void start() {
        clock = new SettableClock(Instant.parse("2025-03-01T10:00:00Z"));
        starter = env -> TestServer.start(env, clock, null);
        server = starter.apply(Map.of("GENQUEUE_WORKERS", "0"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void a_key_over_its_rate_is_refused_with_429_and_retry_after_until_its_bucket_refills() {
        String key = server.newKey("rated", "--rate", "2/s", "--burst", "3");
        for (int i = 0; i < 3; i++) {
            assertThat(submit(key, ONE).status()).as("the burst, request %d", i).isEqualTo(200);
        }
        TestServer.Response refused = submit(key, ONE);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.json().get("detail").asText()).isEqualTo("Rate limit of 2 requests/s exceeded for this key.");
        assertThat(refused.header("Retry-After")).isEqualTo("1"); // the next token in 500 ms, in whole seconds
        clock.advance(Duration.ofMillis(499));
        assertThat(submit(key, ONE).status()).as("just before the next token").isEqualTo(429);
        clock.advance(Duration.ofMillis(1));
        assertThat(submit(key, ONE).status()).as("one token back").isEqualTo(200);
        assertThat(submit(key, ONE).status()).isEqualTo(429);
        assertThat(server.submit(ONE).status()).as("a key without limits is not held back").isEqualTo(200);
    }

    @Test
    void a_key_gets_its_rate_over_a_stepped_run_whichever_process_answers() {
        String key = server.newKey("steady", "--rate", "10/s", "--burst", "5");
        int accepted = 0;
        for (int step = 0; step < 50; step++) { // 5 s at 100 ms steps, 3 requests a step: more than the rate allows
            clock.advance(Duration.ofMillis(100));
            for (int r = 0; r < 3; r++) {
                accepted += submit(key, ONE).status() == 200 ? 1 : 0;
            }
        }
        // the bucket is full at the first request; 4.9 s later it has given 49 more tokens
        assertThat(accepted).as("the burst, then 10/s").isEqualTo(5 + 49);
    }

    @Test
    void max_queued_accepts_exactly_the_limit_of_concurrent_submits_and_one_more_once_one_has_left() {
        String key = server.newKey("bounded", "--max-queued", "10");
        List<TestServer.Response> answers = concurrently(32, () -> submit(key, ONE));
        List<TestServer.Response> accepted = answers.stream().filter(r -> r.status() == 200).toList();
        assertThat(accepted).hasSize(10);
        TestServer.Response refused = answers.stream().filter(r -> r.status() != 200).findFirst().orElseThrow();
        assertThat(answers).allMatch(r -> r.status() == 200 || r.status() == 429);
        assertThat(refused.json().get("detail").asText())
                .isEqualTo("Limit of 10 requests queued or in progress reached for this tenant; submit again when one of them has completed.");
        assertThat(refused.header("Retry-After")).isEqualTo("5");

        String unlimited = server.newKey("bounded");
        assertThat(submit(unlimited, ONE).status()).as("another key of the tenant, without the limit").isEqualTo(200);
        assertThat(submit(key, ONE).status()).as("the tenant is past the limit now").isEqualTo(429);
        for (String id : List.of(accepted.get(0).json().get("request_id").asText(), accepted.get(1).json().get("request_id").asText())) {
            assertThat(server.send(server.request(TestServer.cancelPath(id), key).PUT(HttpRequest.BodyPublishers.noBody()).build())
                    .status()).isEqualTo(202);
        }
        assertThat(submit(key, ONE).status()).as("two left, the tenant is at 9").isEqualTo(200);
        assertThat(submit(key, ONE).status()).isEqualTo(429);
    }

    @Test
    void daily_images_accept_exactly_the_limit_of_concurrent_images_and_start_again_at_utc_midnight() {
        String key = server.newKey("daily", "--daily-images", "10");
        assertThat(submit(key, "{\"prompt\":\"four\",\"num_images\":4}").status()).isEqualTo(200);
        List<TestServer.Response> answers = concurrently(32, () -> submit(key, ONE));
        assertThat(answers.stream().filter(r -> r.status() == 200)).as("4 + 6 = 10 images").hasSize(6);
        TestServer.Response refused = answers.stream().filter(r -> r.status() != 200).findFirst().orElseThrow();
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.json().get("detail").asText()).isEqualTo("Daily limit of 10 images reached for this key; it resets at 00:00 UTC.");
        Instant now = clock.instant();
        Instant midnight = now.truncatedTo(java.time.temporal.ChronoUnit.DAYS).plus(Duration.ofDays(1));
        long toMidnight = (Duration.between(now, midnight).toMillis() + 999) / 1000;
        assertThat(Long.parseLong(refused.header("Retry-After"))).isEqualTo(toMidnight);

        clock.set(midnight);
        assertThat(submit(key, "{\"prompt\":\"four\",\"num_images\":4}").status()).as("a new UTC day").isEqualTo(200);
        assertThat(submit(key, "{\"prompt\":\"four\",\"num_images\":4}").status()).isEqualTo(200);
        assertThat(submit(key, "{\"prompt\":\"four\",\"num_images\":4}").status()).as("12 would pass 10").isEqualTo(429);
        assertThat(submit(key, "{\"prompt\":\"two\",\"num_images\":2}").status()).as("10 exactly").isEqualTo(200);
    }

    @Test
    void an_idempotent_repeat_is_answered_with_the_stored_request_even_at_the_limit() {
        String key = server.newKey("repeats", "--max-queued", "1");
        TestServer.Response first = submit(key, ONE, "Idempotency-Key", "once");
        assertThat(first.status()).isEqualTo(200);
        TestServer.Response repeat = submit(key, ONE, "Idempotency-Key", "once");
        assertThat(repeat.status()).isEqualTo(200);
        assertThat(repeat.json().get("request_id").asText()).isEqualTo(first.json().get("request_id").asText());
        TestServer.Response other = submit(key, ONE, "Idempotency-Key", "twice");
        assertThat(other.status()).isEqualTo(429);
        // the refused request's key was not kept: once room is made, it makes a new request
        server.send(server.request(TestServer.cancelPath(first.json().get("request_id").asText()), key)
                .PUT(HttpRequest.BodyPublishers.noBody()).build());
        TestServer.Response later = submit(key, ONE, "Idempotency-Key", "twice");
        assertThat(later.status()).isEqualTo(200);
        assertThat(later.json().get("request_id").asText()).isNotEqualTo(first.json().get("request_id").asText());
    }

    @Test
    void keys_update_changes_the_limits_a_running_server_applies_and_0_removes_them() {
        String key = server.newKey("changing", "--max-queued", "1");
        String id = io.genqueue.auth.Keys.idOf(key);
        assertThat(submit(key, ONE).status()).isEqualTo(200);
        assertThat(submit(key, ONE).status()).isEqualTo(429);
        assertThat(server.keys("update", id, "--max-queued", "2").code()).isZero();
        awaitEveryNodeSees(key, new io.genqueue.auth.KeyLimits(0, 0, 2, 0));
        assertThat(submit(key, ONE).status()).as("raised to 2").isEqualTo(200);
        assertThat(submit(key, ONE).status()).isEqualTo(429);
        assertThat(server.keys("update", id, "--max-queued", "0", "--rate", "1/s", "--burst", "1").code()).isZero();
        awaitEveryNodeSees(key, new io.genqueue.auth.KeyLimits(1, 1, 0, 0));
        assertThat(submit(key, ONE).status()).as("no max-queued now; the rate's one token").isEqualTo(200);
        TestServer.Response limited = submit(key, ONE);
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.json().get("detail").asText()).isEqualTo("Rate limit of 1 requests/s exceeded for this key.");
        assertThat(server.keys("update", id, "--rate", "0").code()).isZero();
        awaitEveryNodeSees(key, io.genqueue.auth.KeyLimits.NONE);
        for (int i = 0; i < 5; i++) {
            assertThat(submit(key, ONE).status()).as("no limits at all").isEqualTo(200);
        }
    }

    /** A change reaches another PostgreSQL process when its announcement arrives, not by the next request. */
    private static void awaitEveryNodeSees(String secret, io.genqueue.auth.KeyLimits limits) {
        AdminApiTest.awaitEveryNodeSees(server, secret, limits);
    }

    @Test
    void past_genqueue_max_queued_a_submit_is_503_with_retry_after_until_the_queue_drains() {
        try (TestServer full = starter.apply(Map.of("GENQUEUE_WORKERS", "0", "GENQUEUE_MAX_QUEUED", "3"))) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                clock.advance(Duration.ofSeconds(1)); // past any cached depth
                ids.add(full.submitOk(ONE));
            }
            clock.advance(Duration.ofSeconds(1));
            TestServer.Response refused = full.submit(ONE);
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.json().get("detail").asText()).isEqualTo("The service's queue is full (3 requests waiting); try again shortly.");
            assertThat(refused.header("Retry-After")).isEqualTo("5");
            assertThat(full.put(TestServer.cancelPath(ids.get(0))).status()).isEqualTo(202);
            clock.advance(Duration.ofSeconds(1));
            assertThat(full.submit(ONE).status()).as("one left the queue").isEqualTo(200);
        }
    }

    // ---------------------------------------------------------------- helpers

    static TestServer.Response submit(String key, String json, String... headers) {
        HttpRequest.Builder b = server.request("/v1/queue/nano_banana", key).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return server.send(b.POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** {@code n} calls at once, each on its own thread, released together. */
    static List<TestServer.Response> concurrently(int n, Supplier<TestServer.Response> call) {
        CountDownLatch go = new CountDownLatch(1);
        List<TestServer.Response> answers = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                answers.add(call.get());
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        assertThat(answers).as("every call answered").hasSize(n);
        return answers;
    }
}
