package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.auth.KeyLimits;
import io.genqueue.auth.Keys;
import io.genqueue.queue.LogCapture;
import io.genqueue.testing.Eventually;
import io.genqueue.testing.SettableClock;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin API over real HTTP on one SQLite process, on a stepped clock and without workers (what
 * is submitted stays queued): keys made, listed, changed and revoked through it take effect on the
 * queue routes at once; every tenant's usage; who may call it (401, 403); its 422s; its log lines;
 * and that a key's secret is in its creation's answer and nowhere else. {@link AdminApiClusterTest}
 * runs the same on two processes sharing one PostgreSQL schema, each request to the next process.
 */
class AdminApiTest {

    static final String ONE = "{\"prompt\":\"a lighthouse\"}";
    static SettableClock clock;
    static TestServer server;
    /** An admin key, made with {@code keys create --admin} as an operator would. */
    static String admin;

    @BeforeAll
    static void start() {
        clock = new SettableClock(Instant.parse("2025-03-01T10:00:00Z"));
        server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0"), clock, null);
        admin = server.newKey("ops", "--admin");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void a_key_created_over_the_api_works_at_once_on_the_queue_routes_and_its_limits_apply() {
        TestServer.Response made = call("POST", "/v1/admin/keys", admin,
                "{\"tenant\":\"acme\",\"rate\":2,\"burst\":2,\"max_queued\":0,\"daily_images\":100,\"admin\":false}");
        assertThat(made.status()).isEqualTo(201);
        JsonNode body = made.json();
        String secret = body.get("secret").asText();
        assertThat(Keys.wellFormed(secret)).isTrue();
        assertThat(body.get("id").asText()).isEqualTo(Keys.idOf(secret));
        assertThat(body.get("tenant").asText()).isEqualTo("acme");
        assertThat(body.get("admin").asBoolean()).isFalse();
        assertThat(body.get("revoked_at").isNull()).isTrue();
        assertThat(body.get("limits").toString()).isEqualTo("{\"rate\":2,\"burst\":2,\"max_queued\":0,\"daily_images\":100}");

        TestServer.Response first = submit(secret, ONE);
        assertThat(first.status()).isEqualTo(200);
        assertThat(submit(secret, ONE).status()).isEqualTo(200);
        TestServer.Response third = submit(secret, ONE);
        assertThat(third.status()).as("the burst of 2 is spent").isEqualTo(429);
        assertThat(third.json().get("detail").asText()).isEqualTo("Rate limit of 2 requests/s exceeded for this key.");
        String id = first.json().get("request_id").asText();
        TestServer.Response status = server.send(server.request(TestServer.statusPath(id), secret).GET().build());
        assertThat(status.status()).as("fal's status of a queued request").isEqualTo(202);
        assertThat(status.json().get("status").asText()).isEqualTo("IN_QUEUE");
    }

    @Test
    void a_key_created_with_a_rate_as_keys_create_writes_it_gets_that_rate_and_a_default_burst() {
        TestServer.Response made = call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"rate\":\"0.5/s\"}");
        assertThat(made.status()).isEqualTo(201);
        assertThat(made.json().get("limits").toString()).isEqualTo("{\"rate\":0.5,\"burst\":1,\"max_queued\":0,\"daily_images\":0}");
    }

    @Test
    void a_patch_changes_the_limits_a_running_server_applies_and_0_removes_them() {
        String secret = create("{\"tenant\":\"changing\",\"max_queued\":1}").get("secret").asText();
        String id = Keys.idOf(secret);
        assertThat(submit(secret, ONE).status()).isEqualTo(200);
        assertThat(submit(secret, ONE).status()).isEqualTo(429);

        TestServer.Response raised = call("PATCH", "/v1/admin/keys/" + id, admin, "{\"max_queued\":2}");
        assertThat(raised.status()).isEqualTo(200);
        assertThat(raised.json().get("limits").get("max_queued").asInt()).isEqualTo(2);
        awaitEveryNodeSees(secret, new KeyLimits(0, 0, 2, 0));
        assertThat(submit(secret, ONE).status()).as("raised to 2").isEqualTo(200);
        assertThat(submit(secret, ONE).status()).isEqualTo(429);

        TestServer.Response removed = call("PATCH", "/v1/admin/keys/" + id, admin, "{\"max_queued\":0,\"rate\":1}");
        assertThat(removed.json().get("limits").toString()).isEqualTo("{\"rate\":1,\"burst\":1,\"max_queued\":0,\"daily_images\":0}");
        awaitEveryNodeSees(secret, new KeyLimits(1, 1, 0, 0));
        assertThat(submit(secret, ONE).status()).as("no max-queued now; the rate's one token").isEqualTo(200);
        assertThat(submit(secret, ONE).status()).isEqualTo(429);
        assertThat(call("PATCH", "/v1/admin/keys/" + id, admin, "{\"rate\":0}").json().get("limits").get("burst").asInt())
                .as("removing the rate removes the burst").isZero();
        awaitEveryNodeSees(secret, KeyLimits.NONE);
        for (int i = 0; i < 3; i++) {
            assertThat(submit(secret, ONE).status()).as("no limits at all").isEqualTo(200);
        }
    }

    @Test
    void a_delete_revokes_the_key_so_its_next_request_is_401_and_an_unknown_id_is_404() {
        String secret = create("{\"tenant\":\"leaving\"}").get("secret").asText();
        String id = Keys.idOf(secret);
        assertThat(submit(secret, ONE).status()).isEqualTo(200);

        TestServer.Response revoked = call("DELETE", "/v1/admin/keys/" + id, admin, null);
        assertThat(revoked.status()).isEqualTo(200);
        assertThat(revoked.json().get("id").asText()).isEqualTo(id);
        assertThat(Instant.parse(revoked.json().get("revoked_at").asText())).isNotNull();
        awaitEveryNodeSees(secret, null);
        TestServer.Response refused = submit(secret, ONE);
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.json().get("detail").asText()).isEqualTo("Invalid or revoked API key.");
        assertThat(call("DELETE", "/v1/admin/keys/" + id, admin, null).status()).as("again: nothing changes").isEqualTo(200);

        TestServer.Response unknown = call("DELETE", "/v1/admin/keys/nosuchid", admin, null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("detail").asText()).isEqualTo("No key with this id; GET /v1/admin/keys lists them.");
        assertThat(call("PATCH", "/v1/admin/keys/nosuchid", admin, "{\"rate\":1}").status()).isEqualTo(404);
    }

    @Test
    void the_list_shows_every_key_with_its_tenant_times_limits_and_admin_flag_never_a_secret_or_digest() {
        String secret = create("{\"tenant\":\"listed\",\"daily_images\":7}").get("secret").asText();
        TestServer.Response list = call("GET", "/v1/admin/keys", admin, null);

        assertThat(list.status()).isEqualTo(200);
        JsonNode mine = null;
        JsonNode ops = null;
        for (JsonNode k : list.json().get("keys")) {
            if (k.get("id").asText().equals(Keys.idOf(secret))) {
                mine = k;
            }
            if (k.get("id").asText().equals(Keys.idOf(admin))) {
                ops = k;
            }
        }
        assertThat(mine).as("the new key").isNotNull();
        assertThat(mine.get("tenant").asText()).isEqualTo("listed");
        assertThat(mine.get("limits").get("daily_images").asInt()).isEqualTo(7);
        assertThat(Instant.parse(mine.get("created_at").asText())).isNotNull();
        assertThat(mine.get("revoked_at").isNull()).isTrue();
        assertThat(ops).as("the admin key").isNotNull();
        assertThat(ops.get("admin").asBoolean()).isTrue();
        assertThat(list.body()).doesNotContain(secret, Keys.hash(secret), admin, Keys.hash(admin), "gq_", "secret", "hash");
    }

    @Test
    void a_non_admin_key_gets_403_and_no_key_or_a_bad_key_401_on_every_admin_route() {
        String id = Keys.idOf(server.key);
        List<String[]> routes = List.of(new String[] {"GET", "/v1/admin/keys", null},
                new String[] {"POST", "/v1/admin/keys", "{\"tenant\":\"sneaky\",\"admin\":true}"},
                new String[] {"PATCH", "/v1/admin/keys/" + id, "{\"admin\":true}"},
                new String[] {"DELETE", "/v1/admin/keys/" + Keys.idOf(admin), null},
                new String[] {"GET", "/v1/admin/usage", null});
        for (String[] r : routes) {
            TestServer.Response notAdmin = call(r[0], r[1], server.key, r[2]);
            assertThat(notAdmin.status()).as("%s %s with a tenant's key", r[0], r[1]).isEqualTo(403);
            assertThat(notAdmin.json().get("detail").asText()).isEqualTo("This route needs an admin key (keys create --admin).");
            assertThat(call(r[0], r[1], null, r[2]).status()).as("%s %s without a key", r[0], r[1]).isEqualTo(401);
            assertThat(call(r[0], r[1], "gq_aaaaaaaa_" + "b".repeat(32), r[2]).status()).as("%s %s, unknown key", r[0], r[1])
                    .isEqualTo(401);
        }
        JsonNode keys = call("GET", "/v1/admin/keys", admin, null).json().get("keys");
        List<String> tenants = new ArrayList<>();
        keys.forEach(k -> tenants.add(k.get("tenant").asText()));
        assertThat(tenants).as("nothing was made").doesNotContain("sneaky");
        keys.forEach(k -> {
            if (k.get("id").asText().equals(id)) {
                assertThat(k.get("admin").asBoolean()).as("the tenant's key did not make itself an admin").isFalse();
            }
            if (k.get("id").asText().equals(Keys.idOf(admin))) {
                assertThat(k.get("revoked_at").isNull()).as("the admin key was not revoked").isTrue();
            }
        });
        TestServer.Response put = call("PUT", "/v1/admin/keys", admin, "{}");
        assertThat(put.status()).isEqualTo(405);
        assertThat(put.header("Allow")).isEqualTo("GET, POST");
    }

    @Test
    void an_admin_key_sees_no_request_of_another_tenant_through_the_queue_routes() {
        String theirs = server.newKey("elsewhere");
        String id = submit(theirs, ONE).json().get("request_id").asText();

        for (String path : List.of(TestServer.statusPath(id), TestServer.responsePath(id), TestServer.statusPath(id) + "/stream")) {
            TestServer.Response r = server.send(server.request(path, admin).GET().build());
            assertThat(r.status()).as(path).isEqualTo(404);
        }
        TestServer.Response cancel = server.send(server.request(TestServer.cancelPath(id), admin)
                .PUT(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(cancel.status()).isEqualTo(404);
        assertThat(server.send(server.request(TestServer.statusPath(id), theirs).GET().build()).json().get("status").asText())
                .as("still queued for its own tenant").isEqualTo("IN_QUEUE");
    }

    @Test
    void admin_usage_shows_every_tenant_while_v1_usage_shows_only_the_callers() {
        String one = create("{\"tenant\":\"usage-one\"}").get("secret").asText();
        String two = create("{\"tenant\":\"usage-two\"}").get("secret").asText();
        assertThat(submit(one, ONE).status()).isEqualTo(200);
        assertThat(submit(two, ONE).status()).isEqualTo(200);
        assertThat(submit(two, "{\"prompt\":\"two\",\"num_images\":2}").status()).isEqualTo(200);
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        String dates = "from=" + today + "&to=" + today;

        TestServer.Response all = call("GET", "/v1/admin/usage?" + dates, admin, null);
        assertThat(all.status()).isEqualTo(200);
        JsonNode body = all.json();
        assertThat(body.get("tenant").isNull()).isTrue();
        assertThat(body.get("from").asText()).isEqualTo(today.toString());
        Map<String, Long> submitted = new java.util.TreeMap<>();
        body.get("tenants").forEach(t -> submitted.put(t.get("tenant").asText(), t.get("totals").get("submitted").asLong()));
        assertThat(submitted).containsEntry("usage-one", 1L).containsEntry("usage-two", 2L);
        assertThat(submitted.size()).as("every tenant that submitted today").isGreaterThan(2);
        assertThat(body.get("totals").get("submitted").asLong()).isEqualTo(submitted.values().stream().mapToLong(Long::longValue).sum());
        List<String> dayTenants = new ArrayList<>();
        body.get("days").forEach(d -> dayTenants.add(d.get("tenant").asText()));
        assertThat(dayTenants).contains("usage-one", "usage-two");

        JsonNode justTwo = call("GET", "/v1/admin/usage?" + dates + "&tenant=usage-two", admin, null).json();
        assertThat(justTwo.get("tenant").asText()).isEqualTo("usage-two");
        assertThat(justTwo.get("tenants").size()).isEqualTo(1);
        assertThat(justTwo.get("totals").get("submitted").asLong()).isEqualTo(2);

        JsonNode own = server.send(server.request("/v1/usage?" + dates, one).GET().build()).json();
        assertThat(own.get("tenant").asText()).isEqualTo("usage-one");
        assertThat(own.get("totals").get("submitted").asLong()).isEqualTo(1);
        JsonNode adminsOwn = server.send(server.request("/v1/usage?" + dates, admin).GET().build()).json();
        assertThat(adminsOwn.get("tenant").asText()).as("an admin key's /v1/usage is its own tenant's").isEqualTo("ops");
    }

    @Test
    void bad_input_is_a_422_naming_the_field_and_never_a_5xx() {
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"rate\":-1}"), "[\"body\",\"rate\"]", "value_error");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"rate\":2000000}"), "[\"body\",\"rate\"]",
                "value_error");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"rate\":\"fast\"}"), "[\"body\",\"rate\"]",
                "float_parsing");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"burst\":3}"), "[\"body\",\"burst\"]",
                "value_error");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"max_queued\":-2}"),
                "[\"body\",\"max_queued\"]", "value_error");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"daily_images\":\"ten\"}"),
                "[\"body\",\"daily_images\"]", "int_type");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"max_queued\":1.5}"),
                "[\"body\",\"max_queued\"]", "int_type");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"admin\":\"yes\"}"), "[\"body\",\"admin\"]",
                "bool_type");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"rate\":1}"), "[\"body\",\"tenant\"]", "missing");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"no spaces\"}"), "[\"body\",\"tenant\"]", "value_error");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"acme\",\"max_queue\":1}"),
                "[\"body\",\"max_queue\"]", "extra_forbidden");
        assertViolation(call("POST", "/v1/admin/keys", admin, "[1]"), "[\"body\"]", "model_attributes_type");
        assertViolation(call("POST", "/v1/admin/keys", admin, "{\"tenant\":"), "[\"body\"]", "json_invalid");
        assertViolation(call("PATCH", "/v1/admin/keys/" + Keys.idOf(server.key), admin, "{}"), "[\"body\"]", "missing");
        assertViolation(call("PATCH", "/v1/admin/keys/" + Keys.idOf(server.key), admin, "{\"tenant\":\"moved\"}"),
                "[\"body\",\"tenant\"]", "extra_forbidden");
        assertViolation(call("GET", "/v1/admin/usage?from=2025-02-30", admin, null), "[\"query\",\"from\"]", "date_parsing");
        assertViolation(call("GET", "/v1/admin/usage?tenant=..%2Fx", admin, null), "[\"query\",\"tenant\"]", "value_error");

        TestServer.Response text = server.send(server.request("/v1/admin/keys", admin).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"tenant\":\"acme\"}")).build());
        assertThat(text.status()).isEqualTo(415);
        TestServer.Response both = call("POST", "/v1/admin/keys", admin, "{\"rate\":-1,\"burst\":\"x\"}");
        assertThat(both.json().get("detail").size()).as("the missing tenant and the burst's type at once").isEqualTo(2);
    }

    @Test
    void every_admin_action_is_one_log_line_with_the_admin_key_id_and_a_secret_is_in_no_later_answer_or_log_line() {
        String adminId = Keys.idOf(admin);
        List<TestServer.Response> later = new ArrayList<>();
        String secret;
        String logs;
        try (LogCapture capture = new LogCapture()) {
            TestServer.Response made = call("POST", "/v1/admin/keys", admin, "{\"tenant\":\"logged\",\"rate\":3}");
            secret = made.json().get("secret").asText();
            String id = Keys.idOf(secret);
            later.add(call("GET", "/v1/admin/keys", admin, null));
            later.add(call("PATCH", "/v1/admin/keys/" + id, admin, "{\"max_queued\":4}"));
            later.add(call("GET", "/v1/admin/usage", admin, null));
            later.add(submit(secret, ONE));
            later.add(call("DELETE", "/v1/admin/keys/" + id, admin, null));
            awaitEveryNodeSees(secret, null);
            later.add(submit(secret, ONE));
            later.add(call("PATCH", "/v1/admin/keys/" + secret, admin, "{\"rate\":1}")); // a secret sent as an id
            logs = capture.output();
            assertThat(capture.lines()).contains(
                    "INFO  io.genqueue.http.AdminRoutes - Admin key " + adminId + " created key " + id + " for tenant logged.",
                    "INFO  io.genqueue.http.AdminRoutes - Admin key " + adminId + " changed key " + id
                            + " of tenant logged: rate 3/s, burst 3, max_queued 4, daily_images 0, admin false.",
                    "INFO  io.genqueue.http.AdminRoutes - Admin key " + adminId + " revoked key " + id + " of tenant logged.");
            assertThat(capture.lines()).anyMatch(l -> l.startsWith("INFO  io.genqueue.http.AdminRoutes - Admin key " + adminId
                    + " listed the keys ("));
            LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
            assertThat(capture.lines()).contains("INFO  io.genqueue.http.AdminRoutes - Admin key " + adminId
                    + " read the usage of every tenant from " + today.withDayOfMonth(1) + " to " + today + ".");
        }
        assertThat(later.get(3).status()).as("the new key submits").isEqualTo(200);
        assertThat(later.get(5).status()).as("revoked").isEqualTo(401);
        assertThat(later.get(6).status()).isEqualTo(404);
        for (TestServer.Response r : later) {
            assertThat(r.body()).doesNotContain(secret, Keys.hash(secret), admin);
        }
        assertThat(logs).doesNotContain(secret, Keys.hash(secret), admin, Keys.hash(admin));
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Waits until every process's key store answers {@code secret} with {@code limits} (null: as revoked).
     * One process sees a change at its next request; others of a PostgreSQL cluster when the change's
     * announcement reaches them (milliseconds, at worst one poll interval), as the README says.
     */
    static void awaitEveryNodeSees(String secret, KeyLimits limits) {
        awaitEveryNodeSees(server, secret, limits);
    }

    /** The same on any server or cluster. */
    static void awaitEveryNodeSees(TestServer server, String secret, KeyLimits limits) {
        Eventually.until(Duration.ofSeconds(10), "every process applies the key's change", () -> server.nodes().stream()
                .allMatch(node -> limits == null ? node.keys().authenticate(secret).isEmpty()
                        : node.keys().authenticate(secret).map(k -> k.limits().equals(limits)).orElse(false)));
    }

    /** {@code method path} with {@code apiKey} (none when null) and a JSON body (none when null). */
    static TestServer.Response call(String method, String path, String apiKey, String json) {
        HttpRequest.Builder b = apiKey == null
                ? HttpRequest.newBuilder(URI.create(server.base + path)).timeout(Duration.ofSeconds(30))
                : server.request(path, apiKey);
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        return server.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .build());
    }

    /** A key made through the API (201), as its answer: the key and its secret. */
    static JsonNode create(String json) {
        TestServer.Response made = call("POST", "/v1/admin/keys", admin, json);
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        return made.json();
    }

    static TestServer.Response submit(String key, String json) {
        return server.send(server.request("/v1/queue/nano_banana", key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static void assertViolation(TestServer.Response r, String loc, String type) {
        assertThat(r.status()).as(r.body()).isEqualTo(422);
        JsonNode detail = r.json().get("detail");
        assertThat(detail.size()).as(r.body()).isEqualTo(1);
        assertThat(detail.get(0).get("loc").toString()).as(r.body()).isEqualTo(loc);
        assertThat(detail.get(0).get("type").asText()).as(r.body()).isEqualTo(type);
        assertThat(detail.get(0).get("msg").asText()).as(r.body()).isNotBlank();
    }
}
