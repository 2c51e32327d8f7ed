package io.genqueue.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.auth.ApiKey;
import io.genqueue.auth.Keys;
import io.genqueue.auth.NewKey;
import io.genqueue.testing.Eventually;
import io.genqueue.testing.SettableClock;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** API keys in PostgreSQL: digests only, and one process's change is every process's at once. */
class PostgresKeyStoreTest {

    private static final TestSchemas schemas = new TestSchemas();
    private final SettableClock clock = new SettableClock();

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }

    @Test
    void a_key_works_until_revoked_and_only_its_digest_is_stored() throws Exception {
        String url = schemas.newSchemaUrl();
        try (PostgresKeyStore keys = PostgresKeyStore.open(PostgresConfig.of(url), clock)) {
            NewKey key = keys.createFirst("acme").orElseThrow();
            assertThat(keys.createFirst("acme")).as("only the first").isEmpty();
            assertThat(keys.tenantOf(key.secret())).contains("acme");
            assertThat(keys.tenantOf(Keys.generate())).isEmpty();
            assertThat(keys.tenantOf("not a key")).isEmpty();
            assertThat(keys.list()).extracting(ApiKey::keyId, ApiKey::tenant, ApiKey::revoked)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(key.key().keyId(), "acme", false));

            List<String> stored = new ArrayList<>();
            try (Connection c = TestSchemas.connect(url);
                    ResultSet rs = c.createStatement().executeQuery("SELECT key_id || ' ' || key_hash || ' ' || tenant FROM api_keys")) {
                while (rs.next()) {
                    stored.add(rs.getString(1));
                }
            }
            assertThat(stored).hasSize(1);
            assertThat(stored.get(0)).doesNotContain(key.secret()).contains(Keys.hash(key.secret()));

            assertThat(keys.revoke(key.key().keyId())).isTrue();
            assertThat(keys.tenantOf(key.secret())).isEmpty();
            assertThat(keys.list()).singleElement().satisfies(k -> assertThat(k.revokedAt()).isEqualTo(clock.instant()));
            assertThat(keys.revoke("nosuchid")).isFalse();
            assertThat(keys.createFirst("acme")).as("a revoked key still counts").isEmpty();
        }
    }

    @Test
    void a_key_created_by_one_process_is_accepted_by_another_at_once() {
        String url = schemas.newSchemaUrl();
        try (PostgresJobStore jobs = PostgresJobStore.open(PostgresConfig.of(url), clock);
                PostgresKeyStore server = PostgresKeyStore.beside(jobs);
                PostgresKeyStore cli = PostgresKeyStore.open(PostgresConfig.of(url), clock)) {
            assertThat(server.tenantOf(Keys.generate())).as("unknown, and not remembered as such").isEmpty();
            NewKey key = cli.create("acme");
            assertThat(server.tenantOf(key.secret())).contains("acme");
        }
    }

    @Test
    void a_revocation_reaches_a_server_that_cached_the_key_by_notification() throws Exception {
        String url = schemas.newSchemaUrl();
        // Polling once a minute: only the notification can explain a refusal within the wait below.
        PostgresConfig slowPolls = PostgresConfig.of(url).withPollInterval(Duration.ofMinutes(1));
        try (PostgresJobStore jobs = PostgresJobStore.open(slowPolls, clock);
                PostgresKeyStore server = PostgresKeyStore.beside(jobs);
                PostgresKeyStore cli = PostgresKeyStore.open(PostgresConfig.of(url), clock)) {
            Eventually.until(Duration.ofSeconds(10), "the server listens", jobs::listening);
            NewKey key = cli.create("acme");
            NewKey other = cli.create("acme");
            assertThat(server.tenantOf(key.secret())).contains("acme");
            assertThat(server.tenantOf(other.secret())).contains("acme");
            cli.revoke(key.key().keyId());
            Eventually.until(Duration.ofSeconds(10), "the server refuses the key", () -> server.tenantOf(key.secret()).isEmpty());
            assertThat(server.tenantOf(other.secret())).as("the others still work").contains("acme");
        }
    }

    @Test
    void a_revocation_reaches_a_server_without_notifications_once_its_cache_is_a_poll_interval_old() throws Exception {
        String url = schemas.newSchemaUrl();
        PostgresConfig pollOnly = PostgresConfig.of(url).withPollOnly(true).withPollInterval(Duration.ofMillis(200));
        try (PostgresJobStore jobs = PostgresJobStore.open(pollOnly, clock);
                PostgresKeyStore server = PostgresKeyStore.beside(jobs);
                PostgresKeyStore cli = PostgresKeyStore.open(PostgresConfig.of(url), clock)) {
            NewKey key = cli.create("acme");
            assertThat(server.tenantOf(key.secret())).contains("acme");
            cli.revoke(key.key().keyId());
            Eventually.until(Duration.ofSeconds(10), "the server refuses the key", () -> server.tenantOf(key.secret()).isEmpty());
        }
    }

    @Test
    void the_revoking_server_refuses_the_key_from_its_next_request() {
        String url = schemas.newSchemaUrl();
        try (PostgresJobStore jobs = PostgresJobStore.open(PostgresConfig.of(url).withPollInterval(Duration.ofMinutes(1)), clock);
                PostgresKeyStore server = PostgresKeyStore.beside(jobs)) {
            NewKey key = server.create("acme");
            assertThat(server.tenantOf(key.secret())).contains("acme");
            server.revoke(key.key().keyId());
            assertThat(server.tenantOf(key.secret())).isEmpty();
        }
    }

    @Test
    void a_bad_tenant_name_is_refused() {
        try (PostgresKeyStore keys = PostgresKeyStore.open(PostgresConfig.of(schemas.newSchemaUrl()), clock)) {
            assertThatThrownBy(() -> keys.create("no spaces")).isInstanceOf(IllegalArgumentException.class);
            assertThat(keys.list()).isEmpty();
        }
    }

    @Test
    void of_processes_starting_together_on_an_empty_store_exactly_one_makes_the_first_key() throws Exception {
        String url = schemas.newSchemaUrl();
        PostgresKeyStore.open(PostgresConfig.of(url), clock).close(); // migrate once
        int processes = 6;
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(processes);
        List<java.util.concurrent.Future<java.util.Optional<NewKey>>> made = new ArrayList<>();
        try (java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(processes)) {
            for (int i = 0; i < processes; i++) {
                made.add(pool.submit(() -> {
                    try (PostgresKeyStore keys = PostgresKeyStore.open(PostgresConfig.of(url), clock)) {
                        start.await();
                        return keys.createFirst("default");
                    }
                }));
            }
            long firsts = 0;
            for (var f : made) {
                firsts += f.get().isPresent() ? 1 : 0;
            }
            assertThat(firsts).isEqualTo(1);
        }
        try (PostgresKeyStore keys = PostgresKeyStore.open(PostgresConfig.of(url), clock)) {
            assertThat(keys.list()).hasSize(1);
        }
    }
}
