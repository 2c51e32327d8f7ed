package io.genqueue.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.queue.StoreException;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/** Both spellings of a database URL, and no password in any message. */
class PostgresUrlTest {

    @Test
    void a_libpq_url_becomes_a_jdbc_url_with_the_credentials_as_properties() {
        PostgresUrl url = PostgresUrl.parse("postgresql://app:s3cr%2Ft+x@db.example:6543/queue?sslmode=require");
        assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/queue?sslmode=require");
        assertThat(url.properties()).containsEntry("user", "app").containsEntry("password", "s3cr/t+x");
        assertThat(url.redacted()).doesNotContain("s3cr");
    }

    @Test
    void the_short_forms_and_the_jdbc_form_are_accepted() {
        assertThat(PostgresUrl.parse("postgres://u@h/d").jdbcUrl()).isEqualTo("jdbc:postgresql://h/d");
        assertThat(PostgresUrl.parse("postgresql://h:5432").jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/postgres");
        assertThat(PostgresUrl.parse("jdbc:postgresql://h/d?user=u").jdbcUrl()).isEqualTo("jdbc:postgresql://h/d?user=u");
    }

    @Test
    void a_password_in_the_query_is_redacted_too() {
        assertThat(PostgresUrl.parse("jdbc:postgresql://h/d?user=u&password=hunter2&ssl=true").redacted())
                .isEqualTo("jdbc:postgresql://h/d?user=u&password=***&ssl=true");
        assertThat(PostgresConfig.of("postgresql://u:hunter2@h/d").toString()).doesNotContain("hunter2");
    }

    @Test
    void a_url_that_is_not_postgresql_is_refused_without_echoing_its_password() {
        assertThatThrownBy(() -> PostgresUrl.parse("mysql://u:hunter2@h/d"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void an_unreachable_server_is_a_clear_error_without_the_password() {
        PostgresConfig config = PostgresConfig.of("postgresql://u:hunter2@127.0.0.1:1/d?connectTimeout=2");
        assertThatThrownBy(() -> PostgresJobStore.open(config, Clock.systemUTC()))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:1/d")
                .hasMessageNotContaining("hunter2");
    }
}
