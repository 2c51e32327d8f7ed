package io.genqueue.app;

import static io.genqueue.app.TestServer.cancelPath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import io.genqueue.testing.Eventually;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Usage through the whole service over HTTP, on each store: a known workload (successes, a
 * reference image that cannot be fetched, provider errors, a cancel while running, another
 * tenant's request), then {@code GET /v1/usage} and the {@code usage} command checked against it
 * exactly. The figures are compared with what the status routes say of the same requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class UsageApiContract {

    private final ScriptedProvider provider = new ScriptedProvider();
    private TestServer server;
    private Path config;
    private String otherKey;
    private LocalDate from;
    private LocalDate to;
    /** What the workload's requests ended as, by the status routes. */
    private final List<JsonNode> succeeded = new ArrayList<>();

    /** The settings naming the store under test, beside the test defaults. */
    abstract Map<String, String> storeSettings();

    @BeforeAll
    void start_and_run_a_known_workload() throws IOException {
        server = TestServer.start(storeSettings(), Clock.systemUTC(), provider);
        config = Files.createTempFile("genqueue-usage", ".conf");
        Map<String, String> settings = new HashMap<>(storeSettings());
        settings.put("GENQUEUE_DATA_DIR", server.dataDir.toString());
        Files.writeString(config, String.join("\n", settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
        otherKey = cli("keys", "create", "--tenant", "other").lastLine();
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        from = today.minusDays(1); // a run across midnight stays inside
        to = today.plusDays(1);

        List<String> ok = List.of(
                server.submitOk("{\"prompt\":\"one\"}"),
                server.submitOk("{\"prompt\":\"two\",\"num_images\":2}"),
                server.submitOk("{\"prompt\":\"three\",\"num_images\":3}"));
        String unfetchable = server.submitOk("{\"prompt\":\"x\",\"image_urls\":[\"http://169.254.169.254/latest/meta-data/\"]}");
        String error = server.submitOk("{\"prompt\":\"[error]\"}");
        String blocked = server.submitOk("{\"prompt\":\"[content]\"}");
        String hanging = server.submitOk("{\"prompt\":\"[hang]\"}");
        server.awaitStatus(hanging, s -> s.get("status").asText().equals("IN_PROGRESS"), Duration.ofSeconds(30));
        assertThat(server.put(cancelPath(hanging)).status()).isEqualTo(202);
        String others = server.send(asOther("/v1/queue/nano_banana").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"theirs\"}")).build()).json().get("request_id").asText();

        for (String id : ok) {
            JsonNode status = server.awaitCompleted(id);
            assertThat(status.has("error")).as(id).isFalse();
            succeeded.add(status);
        }
        assertThat(server.awaitCompleted(unfetchable).get("error_type").asText()).isEqualTo("image_fetch_failed");
        assertThat(server.awaitCompleted(error).get("error_type").asText()).isEqualTo("provider_error");
        assertThat(server.awaitCompleted(blocked).get("error_type").asText()).isEqualTo("content_policy_violation");
        assertThat(server.awaitCompleted(hanging).get("error_type").asText()).isEqualTo("cancelled");
        Eventually.value(Duration.ofSeconds(30), "the other tenant's request completed",
                () -> server.send(asOther(statusPath(others)).GET().build()).json(), s -> s.get("status").asText().equals("COMPLETED"));
    }

    @AfterAll
    void stop() throws IOException {
        server.close();
        Files.deleteIfExists(config);
        closeStore();
    }

    /** Releases what {@link #storeSettings} made, after the server is closed. */
    void closeStore() {
    }

    /** A request to this server with the other tenant's key. */
    private HttpRequest.Builder asOther(String path) {
        return HttpRequest.newBuilder(URI.create(server.base + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + otherKey);
    }

    private Cli.Result cli(String... args) {
        String[] all = Stream.concat(Stream.of(args), Stream.of("--config", config.toString())).toArray(String[]::new);
        return Cli.run(all);
    }

    private TestServer.Response usage(String query) {
        return server.get("/v1/usage" + query);
    }

    /** The succeeded requests' run time in seconds, as their statuses say it (metrics.inference_time). */
    private BigDecimal runSeconds() {
        return succeeded.stream().map(s -> new BigDecimal(s.get("metrics").get("inference_time").asText()))
                .reduce(BigDecimal.ZERO, BigDecimal::add);
    }

    @Test
    void the_callers_usage_counts_its_own_workload_exactly_per_day_and_model_with_totals() {
        TestServer.Response r = usage("?from=" + from + "&to=" + to);

        assertThat(r.status()).isEqualTo(200);
        JsonNode body = r.json();
        assertThat(body.get("tenant").asText()).isEqualTo("default");
        assertThat(body.get("from").asText()).isEqualTo(from.toString());
        assertThat(body.get("to").asText()).isEqualTo(to.toString());
        JsonNode totals = body.get("totals");
        assertThat(totals.get("submitted").asLong()).isEqualTo(7);
        assertThat(totals.get("succeeded").asLong()).isEqualTo(3);
        assertThat(totals.get("failed").asLong()).isEqualTo(3);
        assertThat(totals.get("failed_by_error_type").toString())
                .isEqualTo("{\"content_policy_violation\":1,\"image_fetch_failed\":1,\"provider_error\":1}");
        assertThat(totals.get("cancelled").asLong()).isEqualTo(1);
        assertThat(totals.get("images").asLong()).isEqualTo(6);
        JsonNode seconds = totals.get("provider_seconds");
        assertThat(seconds.size()).isEqualTo(1);
        assertThat(seconds.get("scripted").decimalValue()).isEqualByComparingTo(runSeconds());
        // six nano_banana images at its catalog price of $0.039
        assertThat(totals.get("cost_usd").decimalValue()).isEqualByComparingTo("0.234");

        JsonNode days = body.get("days");
        assertThat(days.size()).isBetween(1, 2); // two only when the workload ran across midnight (UTC)
        long submitted = 0;
        for (JsonNode day : days) {
            assertThat(LocalDate.parse(day.get("date").asText())).isBetween(from, to);
            assertThat(day.get("model").asText()).isEqualTo("nano_banana");
            submitted += day.get("submitted").asLong();
        }
        assertThat(submitted).isEqualTo(7);
    }

    @Test
    void another_tenant_sees_only_its_own_usage() {
        JsonNode theirs = server.send(asOther("/v1/usage?from=" + from + "&to=" + to).GET().build()).json();

        assertThat(theirs.get("tenant").asText()).isEqualTo("other");
        assertThat(theirs.get("totals").get("submitted").asLong()).isEqualTo(1);
        assertThat(theirs.get("totals").get("succeeded").asLong()).isEqualTo(1);
        assertThat(theirs.get("totals").get("failed").asLong()).isZero();
    }

    @Test
    void without_dates_the_answer_is_the_month_to_date() {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        JsonNode body = usage("").json();

        assertThat(body.get("to").asText()).isIn(today.toString(), today.plusDays(1).toString()); // a call across midnight
        assertThat(LocalDate.parse(body.get("from").asText())).isEqualTo(LocalDate.parse(body.get("to").asText()).withDayOfMonth(1));
    }

    @Test
    void a_bad_date_is_a_422_detail_naming_the_parameter() {
        TestServer.Response bad = usage("?from=2026-02-30");
        assertThat(bad.status()).isEqualTo(422);
        JsonNode detail = bad.json().get("detail").get(0);
        assertThat(detail.get("loc").toString()).isEqualTo("[\"query\",\"from\"]");
        assertThat(detail.get("type").asText()).isEqualTo("date_parsing");
        assertThat(detail.get("msg").asText()).contains("YYYY-MM-DD");

        TestServer.Response reversed = usage("?from=2026-03-02&to=2026-03-01");
        assertThat(reversed.status()).isEqualTo(422);
        assertThat(reversed.json().get("detail").get(0).get("type").asText()).isEqualTo("value_error");

        TestServer.Response tooLong = usage("?from=2020-01-01&to=2026-01-01");
        assertThat(tooLong.status()).isEqualTo(422);
        assertThat(tooLong.json().get("detail").get(0).get("msg").asText()).contains("at most 366");

        assertThat(usage("?to=tomorrow").json().get("detail").get(0).get("loc").toString()).isEqualTo("[\"query\",\"to\"]");
    }

    @Test
    void usage_needs_a_valid_key_and_is_read_only() {
        TestServer.Response anonymous = server.send(HttpRequest.newBuilder(URI.create(server.base + "/v1/usage")).GET().build());
        assertThat(anonymous.status()).isEqualTo(401);
        TestServer.Response post = server.send(server.request("/v1/usage").POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.header("Allow")).isEqualTo("GET");
    }

    @Test
    void the_usage_command_prints_every_tenants_rows_and_the_totals() {
        Cli.Result all = cli("usage", "--from", from.toString(), "--to", to.toString());

        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).contains("Usage from " + from + " to " + to);
        List<String> lines = all.out().lines().toList();
        assertThat(lines.get(1)).startsWith("TENANT").contains("SUBMITTED", "SUCCEEDED", "FAILED", "CANCELLED", "IMAGES", "COST USD",
                "PROVIDER SECONDS", "FAILED BY ERROR TYPE");
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("default ").contains("nano_banana"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("other ").contains("nano_banana"));
        String total = lines.getLast();
        assertThat(total.split("\\s+")).startsWith("TOTAL", "8", "4", "3", "1", "7", "0.273"); // 7 images at $0.039
        assertThat(total).contains("content_policy_violation=1,image_fetch_failed=1,provider_error=1").contains("scripted=");
    }

    @Test
    void the_usage_command_answers_for_one_tenant_and_refuses_a_bad_date() {
        Cli.Result one = cli("usage", "--tenant", "other", "--from", from.toString(), "--to", to.toString());
        assertThat(one.code()).as(one.err()).isZero();
        assertThat(one.out()).contains("for tenant 'other'").doesNotContain("default ");
        assertThat(one.out().lines().toList().getLast().split("\\s+")).startsWith("TOTAL", "1", "1", "0", "0", "1");

        Cli.Result bad = cli("usage", "--from", "2026-13-01");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).startsWith("genqueue: --from: from must be a date as YYYY-MM-DD");
        assertThat(bad.out()).isEmpty();
    }
}
