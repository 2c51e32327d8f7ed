package io.genqueue.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.auth.NewKey;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys are cached per process, and a revocation by any process on the data directory ends the cache at once. */
class SqliteKeyStoreTest {

    @TempDir
    Path dir;

    @Test
    void a_revocation_by_another_process_is_seen_by_the_next_lookup() {
        SqliteDatabase db = SqliteDatabase.open(dir);
        try (SqliteKeyStore server = SqliteKeyStore.open(db, Clock.systemUTC());
                SqliteKeyStore cli = SqliteKeyStore.open(SqliteDatabase.open(dir), Clock.systemUTC())) {
            List<NewKey> keys = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                keys.add(cli.create("t" + i));
            }
            for (NewKey k : keys) {
                assertThat(server.tenantOf(k.secret())).contains(k.key().tenant()); // now cached
            }
            for (NewKey k : keys) {
                // back to back, within one tick of the file system's clock: each must still be seen
                assertThat(cli.revoke(k.key().keyId())).isTrue();
                assertThat(server.tenantOf(k.secret())).as("revoked %s", k.key().keyId()).isEmpty();
            }
        }
    }

    @Test
    void a_key_made_after_the_cache_filled_is_found_and_an_unknown_one_is_not() {
        try (SqliteKeyStore store = SqliteKeyStore.open(SqliteDatabase.open(dir), Clock.systemUTC())) {
            NewKey first = store.create("a");
            assertThat(store.tenantOf(first.secret())).contains("a");
            NewKey second = store.create("b");
            assertThat(store.tenantOf(second.secret())).contains("b");
            assertThat(store.tenantOf(first.secret() + "x")).isEmpty();
            assertThat(store.revoke(first.key().keyId())).isTrue();
            assertThat(store.tenantOf(first.secret())).isEmpty();
            assertThat(store.tenantOf(second.secret())).contains("b");
        }
    }
}
