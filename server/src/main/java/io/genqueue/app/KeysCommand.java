package io.genqueue.app;

import io.genqueue.auth.ApiKey;
import io.genqueue.auth.KeyStore;
import io.genqueue.auth.NewKey;
import io.genqueue.store.postgres.PostgresKeyStore;
import io.genqueue.store.sqlite.SqliteDatabase;
import io.genqueue.store.sqlite.SqliteKeyStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keys create|list|revoke}: manages API keys in the data directory. Safe beside a running
 * server; the server sees the change on its next request.
 */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Manage API keys.",
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options every keys subcommand takes. */
    static class DataDirOption {
        @Option(names = "--data-dir", description = "Data directory (GENQUEUE_DATA_DIR, default ./data).")
        String dataDir;

        @Option(names = "--config", description = "A file of GENQUEUE_NAME=value lines (GENQUEUE_CONFIG).")
        Path config;

        /** The settings as the server would read them, with {@code --data-dir} as its flag. */
        Settings settings() {
            Map<Setting, String> flags = dataDir == null ? Map.of() : Map.of(Setting.DATA_DIR, dataDir);
            return Settings.load(flags, config, System.getenv());
        }

        /** Runs {@code action} on the key store the settings name: SQLite in the data directory, or PostgreSQL. */
        <T> T withKeys(Function<KeyStore, T> action) {
            Settings settings = settings();
            if (settings.storage().postgres()) {
                try (PostgresKeyStore keys = PostgresKeyStore.open(Application.postgresConfig(settings), Clock.systemUTC())) {
                    return action.apply(keys);
                }
            }
            try (SqliteKeyStore keys = SqliteKeyStore.open(SqliteDatabase.open(settings.dataDir()), Clock.systemUTC())) {
                return action.apply(keys);
            }
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a key for a tenant; the key alone is printed on the last line.")
    static final class Create extends DataDirOption implements Runnable {
        @Option(names = "--tenant", required = true, description = "Tenant name: 1-64 letters, digits, '.', '_' or '-'.")
        String tenant;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            NewKey key = withKeys(keys -> keys.create(tenant));
            PrintWriter out = spec.commandLine().getOut();
            out.println("Created key " + key.key().keyId() + " for tenant '" + tenant + "'. It is shown only this once:");
            out.println(key.secret());
            out.flush();
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (ids and tenants, never secrets).")
    static final class ListKeys extends DataDirOption implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            List<ApiKey> keys = withKeys(KeyStore::list);
            PrintWriter out = spec.commandLine().getOut();
            out.printf("%-10s %-24s %-22s %s%n", "ID", "TENANT", "CREATED", "STATE");
            for (ApiKey k : keys) {
                out.printf("%-10s %-24s %-22s %s%n", k.keyId(), k.tenant(), k.createdAt().toString().substring(0, 19) + "Z",
                        k.revoked() ? "revoked " + k.revokedAt().toString().substring(0, 19) + "Z" : "active");
            }
            out.flush();
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a key by its id (see 'keys list').")
    static final class Revoke extends DataDirOption implements java.util.concurrent.Callable<Integer> {
        @Parameters(paramLabel = "ID", description = "The key's id, as 'keys list' shows it.")
        String keyId;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            boolean revoked = withKeys(keys -> keys.revoke(keyId));
            if (!revoked) {
                spec.commandLine().getErr().println("genqueue: no key with id " + keyId);
                return 1;
            }
            spec.commandLine().getOut().println("Revoked key " + keyId + ".");
            return 0;
        }
    }
}
