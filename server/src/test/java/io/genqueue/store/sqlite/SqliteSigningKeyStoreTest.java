package io.genqueue.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.testing.SettableClock;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.SigningKeyStore;
import io.genqueue.webhook.SigningKeyStoreContract;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The signing key contract on SQLite: each opening has its own writer, as the command line beside a server does. */
class SqliteSigningKeyStoreTest extends SigningKeyStoreContract {

    @TempDir
    Path dir;

    @Override
    protected SigningKeyStore open(SettableClock clock) {
        return SqliteSigningKeyStore.open(SqliteDatabase.open(dir), clock);
    }

    @Test
    void the_servers_store_beside_the_job_store_and_the_command_lines_agree() {
        try (SqliteJobStore jobs = SqliteJobStore.open(SqliteDatabase.open(dir), clock, 2);
                SqliteSigningKeyStore server = SqliteSigningKeyStore.beside(jobs)) {
            SigningKey key = server.active();
            assertThat(opening().active()).isEqualTo(key);
            SigningKey next = opening().rotate(AT_ONCE, GRACE);
            assertThat(server.active()).isEqualTo(next);
        }
    }

    @Test
    void the_database_refuses_a_second_active_key() throws SQLException {
        SigningKey key = opening().active();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(SqliteDatabase.FILE_NAME));
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate(
                    "INSERT INTO webhook_signing_keys (kid, private_key, public_key, created_at) VALUES ('other', x'00', x'00', 0)"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("UNIQUE");
        }
        assertThat(opening().list()).containsExactly(key);
    }
}
