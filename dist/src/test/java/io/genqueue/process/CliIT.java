package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The command line as an operator uses it: {@code keys create|list|revoke} and {@code usage} beside a running
 * server, the first-start key, the data directory lock, bad settings, and help.
 */
class CliIT {

    private static final String KEY_FORMAT = "gq_[a-z2-9]{8}_[a-z2-9]{32}";

    static Path data;
    static String firstOutput;
    static String secondOutput;
    static String firstKey;
    static ServerProcess server;

    /** Starts a server on a fresh directory, stops it, and starts it again: the second one serves the tests. */
    @BeforeAll
    static void start() {
        data = ServerProcess.newDataDir("cli");
        try (ServerProcess first = ServerProcess.serveHealthy(data, Map.of())) {
            firstOutput = first.out.text();
            firstKey = first.printedKey().orElse(null);
            assertThat(first.terminate(Duration.ofSeconds(30))).as(first.describe()).isIn(0, 143);
        }
        server = ServerProcess.serveHealthy(data, Map.of());
        secondOutput = server.out.text();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static ServerProcess.Result keys(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "keys";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--data-dir";
        all[args.length + 2] = data.toString();
        return ServerProcess.run(Map.of(), all);
    }

    private static String createKey(String tenant) {
        ServerProcess.Result r = keys("create", "--tenant", tenant);
        assertThat(r.code()).as(r.toString()).isZero();
        return r.lastLine();
    }

    private static int statusOfUnknownRequest(String key) {
        return server.api(key).getOk(Api.statusPath("req_01hzzzzzzzzzzzzzzzzzzzzzzz")).status();
    }

    @Test
    void serve_prints_a_key_on_the_first_start_only_with_the_command_that_makes_more() {
        assertThat(firstKey).as("first start output:\n" + firstOutput).isNotNull().matches(KEY_FORMAT);
        assertThat(firstOutput).contains("keys create --tenant");
        assertThat(statusOfUnknownRequest(firstKey)).as("the printed key authenticates").isEqualTo(404);
        assertThat(secondOutput).as("second start output").doesNotContain("gq_").doesNotContain("keys create");
    }

    @Test
    void keys_create_prints_the_key_alone_on_the_last_line_and_it_works_at_once() {
        ServerProcess.Result r = keys("create", "--tenant", "acme");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.lastLine()).as(r.toString()).matches(KEY_FORMAT);
        String key = r.lastLine();
        assertThat(server.api(key).submitOk("{\"prompt\":\"made with a new key\"}")).startsWith("req_");
        assertThat(statusOfUnknownRequest("gq_aaaaaaaa_" + "a".repeat(32))).as("a made-up key").isEqualTo(401);
    }

    @Test
    void keys_list_shows_ids_and_tenants_but_never_a_secret() {
        String key = createKey("listed-tenant");
        String id = key.substring(3, 11);
        ServerProcess.Result r = keys("list");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out().lines()).as(r.toString()).anyMatch(line -> line.startsWith(id) && line.contains("listed-tenant"));
        assertThat(r.out() + r.err()).as("no secret, of this key or of the first one")
                .doesNotContain(key.substring(12)).doesNotContain(firstKey.substring(12)).doesNotContainPattern(KEY_FORMAT);
    }

    @Test
    void keys_list_shows_a_new_key_as_active() {
        String key = createKey("fresh-tenant");
        String id = key.substring(3, 11);
        ServerProcess.Result r = keys("list");
        assertThat(r.code()).as(r.toString()).isZero();
        String line = r.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow(() -> new AssertionError(r.toString()));
        assertThat(statusOfUnknownRequest(key)).as("the key works").isEqualTo(404);
        assertThat(line).as("the list line of a key that works").endsWith("active").doesNotContain("revoked");
    }

    @Test
    void keys_revoke_makes_the_key_fail_at_once_on_the_running_server() {
        String key = createKey("revoked-tenant");
        assertThat(statusOfUnknownRequest(key)).isEqualTo(404);
        ServerProcess.Result r = keys("revoke", key.substring(3, 11));
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(statusOfUnknownRequest(key)).as("right after the revoke").isEqualTo(401);
        Api.Response submit = Api.unchecked(() -> server.api(key).submit("{\"prompt\":\"x\"}"));
        assertThat(submit.status()).isEqualTo(401);
        assertThat(submit.json().has("detail")).isTrue();
        assertThat(statusOfUnknownRequest(firstKey)).as("other keys still work").isEqualTo(404);
    }

    @Test
    void revoking_an_unknown_id_fails_with_a_clear_message() {
        ServerProcess.Result r = keys("revoke", "zzzzzzzz");
        assertThat(r.code()).as(r.toString()).isNotZero();
        assertThat(r.err()).as(r.toString()).contains("no key with id zzzzzzzz");
        assertThat(r.out()).doesNotContain("Revoked");
    }

    @Test
    void an_invalid_tenant_name_is_refused_with_a_clear_message() {
        for (String tenant : new String[] {"bad name!", "-leading-dash", "x".repeat(65)}) {
            ServerProcess.Result r = keys("create", "--tenant", tenant);
            assertThat(r.code()).as(tenant + ": " + r).isNotZero();
            assertThat(r.err()).as(tenant + ": " + r).contains("tenant name must be");
            assertThat(r.out() + r.err()).as(tenant + ": no key made").doesNotContainPattern(KEY_FORMAT);
        }
    }

    @Test
    void a_second_server_on_the_same_data_directory_is_refused_naming_it() {
        try (ServerProcess second = ServerProcess.serve(data, Map.of())) {
            int code = second.awaitExit(Duration.ofSeconds(60));
            assertThat(code).as(second.describe()).isEqualTo(2);
            assertThat(second.err.text()).as(second.describe()).contains(data.toAbsolutePath().toString())
                    .contains("another genqueue server is using the data directory");
        }
        assertThat(statusOfUnknownRequest(firstKey)).as("the first server still serves").isEqualTo(404);
    }

    @Test
    void bad_settings_stop_the_start_with_exit_2_naming_every_one() throws Exception {
        Path dir = ServerProcess.newDataDir("cli-bad");
        Path config = Files.writeString(dir.resolve("genqueue.conf"), "GENQUEUE_WROKERS=4\nGENQUEUE_READERS=2\n");
        Path dataDir = dir.resolve("data");
        try (ServerProcess bad = ServerProcess.serve(dataDir, Map.of("GENQUEUE_WORKERS", "-1", "GENQUEUE_LEASE", "fast"),
                "--config", config.toString())) {
            int code = bad.awaitExit(Duration.ofSeconds(60));
            assertThat(code).as(bad.describe()).isEqualTo(2);
            assertThat(bad.err.text()).as(bad.describe())
                    .contains("GENQUEUE_WORKERS").contains("-1")
                    .contains("GENQUEUE_LEASE").contains("fast")
                    .contains("GENQUEUE_WROKERS")
                    .doesNotContain("GENQUEUE_READERS")
                    .doesNotContain("Exception");
            assertThat(bad.out.text()).as("nothing started").doesNotContain("gq_").doesNotContain("listening");
        }
        assertThat(dataDir.resolve("genqueue.db")).as("nothing created").doesNotExist();

        try (ServerProcess badFlag = ServerProcess.serve(dataDir, Map.of("GENQUEUE_PORT", "1"), "--port", "http")) {
            int code = badFlag.awaitExit(Duration.ofSeconds(60));
            assertThat(code).as(badFlag.describe()).isEqualTo(2);
            assertThat(badFlag.err.text()).as(badFlag.describe()).contains("GENQUEUE_PORT").contains("http");
        }
    }

    @Test
    void usage_prints_a_tenants_requests_from_the_running_servers_store() {
        String key = createKey("usage-cli");
        Api api = server.api(key);
        api.awaitCompleted(api.submitOk("{\"prompt\":\"counted\",\"num_images\":2}"));

        ServerProcess.Result r = ServerProcess.run(Map.of(), "usage", "--tenant", "usage-cli", "--data-dir", data.toString());

        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("for tenant 'usage-cli'").contains("TENANT").contains("SUBMITTED");
        assertThat(r.out().lines().filter(l -> l.startsWith("usage-cli ")).toList()).as(r.out()).hasSizeBetween(1, 2); // 2 across midnight
        assertThat(r.lastLine().split("\\s+")).as(r.out()).startsWith("TOTAL", "1", "1", "0", "0", "2");
        assertThat(r.out()).doesNotContain(key);
    }

    @Test
    void help_describes_every_command() {
        ServerProcess.Result top = ServerProcess.run(Map.of(), "--help");
        assertThat(top.code()).as(top.toString()).isZero();
        assertThat(top.out()).contains("serve").contains("keys").contains("usage");

        ServerProcess.Result serve = ServerProcess.run(Map.of(), "serve", "--help");
        assertThat(serve.code()).as(serve.toString()).isZero();
        assertThat(serve.out()).contains("--port").contains("--host").contains("--data-dir").contains("--config");

        ServerProcess.Result keys = ServerProcess.run(Map.of(), "keys", "--help");
        assertThat(keys.code()).as(keys.toString()).isZero();
        assertThat(keys.out()).contains("create").contains("list").contains("revoke");
    }
}
