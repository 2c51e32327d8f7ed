package io.genqueue.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.testing.SettableClock;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.SigningKeyStore;
import io.genqueue.webhook.SigningKeyStoreContract;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The signing key contract on PostgreSQL, each test on a schema of its own; every opening has its
 * own pool, as another process would.
 */
class PostgresSigningKeyStoreTest extends SigningKeyStoreContract {

    private static final TestSchemas schemas = new TestSchemas();
    private String url;

    @BeforeEach
    void newSchema() {
        url = schemas.newSchemaUrl();
    }

    @AfterAll
    static void dropSchemas() {
        schemas.close();
    }

    @Override
    protected SigningKeyStore open(SettableClock clock) {
        return PostgresSigningKeyStore.open(PostgresConfig.of(url), clock);
    }

    @Test
    void many_processes_starting_together_on_an_empty_database_sign_with_one_key() throws Exception {
        opening(); // migrates, as the first process to start would
        int processes = 8;
        CyclicBarrier start = new CyclicBarrier(processes);
        List<Future<SigningKey>> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(processes)) {
            for (int i = 0; i < processes; i++) {
                answers.add(pool.submit(() -> {
                    // each a process's store beside its job store, as the server makes it at start
                    try (PostgresJobStore jobs = PostgresJobStore.open(PostgresConfig.of(url).withPoolSize(2), clock);
                            PostgresSigningKeyStore keys = PostgresSigningKeyStore.beside(jobs)) {
                        start.await();
                        return keys.active();
                    }
                }));
            }
            Set<String> kids = new HashSet<>();
            for (Future<SigningKey> answer : answers) {
                kids.add(answer.get().kid());
            }
            assertThat(kids).hasSize(1);
        }
        assertThat(opening().list()).hasSize(1);
    }

    @Test
    void the_database_refuses_a_second_active_key() throws SQLException {
        SigningKey key = opening().active();
        try (Connection c = TestSchemas.connect(url); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate(
                    "INSERT INTO webhook_signing_keys (kid, private_key, public_key, created_at, signs_from) VALUES ('other', '\\x00', '\\x00', 0, 0)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("webhook_signing_keys_one_active");
        }
        assertThat(opening().list()).containsExactly(key);
    }
}
