package io.genqueue.app;

import io.genqueue.auth.ApiKey;
import io.genqueue.auth.KeyChange;
import io.genqueue.auth.KeyLimits;
import io.genqueue.auth.KeyStore;
import io.genqueue.auth.NewKey;
import io.genqueue.store.postgres.PostgresKeyStore;
import io.genqueue.store.sqlite.SqliteDatabase;
import io.genqueue.store.sqlite.SqliteKeyStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code keys create|update|list|revoke}: manages API keys and their limits in the data directory
 * (or the PostgreSQL store). Safe beside a running server; the server sees the change on its next
 * request (on PostgreSQL, other processes within milliseconds, at worst one poll interval).
 */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Manage API keys.",
        subcommands = {KeysCommand.Create.class, KeysCommand.Update.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
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

    /** The limit flags {@code create} and {@code update} share (the names are fixed: operators' scripts use them). */
    static final class LimitOptions {
        @Option(names = "--rate", paramLabel = "N/s", description = "Requests per second (a token bucket); 0: no limit.")
        String rate;

        @Option(names = "--burst", paramLabel = "N", description = "Requests at once after a quiet spell (the bucket's size); "
                + "default: one second's worth of the rate.")
        Integer burst;

        @Option(names = "--max-queued", paramLabel = "N", description = "The tenant's requests queued or running at which this "
                + "key's submits are refused (429); 0: no limit.")
        Integer maxQueued;

        @Option(names = "--daily-images", paramLabel = "N", description = "Images (num_images) accepted per UTC day; 0: no limit.")
        Integer dailyImages;

        @Option(names = "--admin", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
                description = "An admin key (the admin API); --admin=false takes it away.")
        Boolean admin;

        KeyChange change() {
            return new KeyChange(rate == null ? null : KeyLimits.parseRate(rate), burst, maxQueued, dailyImages, admin);
        }
    }

    /** How {@code keys} shows a key's limits: {@code rate 5/s (burst 10), max queued 3, daily images 100, admin}. */
    static String describe(ApiKey key) {
        KeyLimits l = key.limits();
        List<String> parts = new ArrayList<>();
        if (l.rate() > 0) {
            parts.add("rate " + KeyLimits.formatRate(l.rate()) + "/s (burst " + l.burst() + ")");
        }
        if (l.maxQueued() > 0) {
            parts.add("max queued " + l.maxQueued());
        }
        if (l.dailyImages() > 0) {
            parts.add("daily images " + l.dailyImages());
        }
        if (key.admin()) {
            parts.add("admin");
        }
        return parts.isEmpty() ? "no limits" : String.join(", ", parts);
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a key for a tenant, with limits if given; the key alone is printed on the last line.")
    static final class Create extends DataDirOption implements Runnable {
        @Option(names = "--tenant", required = true, description = "Tenant name: 1-64 letters, digits, '.', '_' or '-'.")
        String tenant;

        @Mixin
        LimitOptions limitOptions;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            KeyLimits limits = KeyLimits.NONE.with(limitOptions.change());
            boolean admin = Boolean.TRUE.equals(limitOptions.admin);
            NewKey key = withKeys(keys -> keys.create(tenant, limits, admin));
            PrintWriter out = spec.commandLine().getOut();
            out.println("Created key " + key.key().keyId() + " for tenant '" + tenant + "' (" + describe(key.key())
                    + "). It is shown only this once:");
            out.println(key.secret());
            out.flush();
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
            description = "Change a key's limits (0 removes one) or admin flag; what is not given stays as it is.")
    static final class Update extends DataDirOption implements java.util.concurrent.Callable<Integer> {
        @Parameters(paramLabel = "ID", description = "The key's id, as 'keys list' shows it.")
        String keyId;

        @Mixin
        LimitOptions limitOptions;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            KeyChange change = limitOptions.change();
            if (change.empty()) {
                throw new IllegalArgumentException("nothing to change: give --rate, --burst, --max-queued, --daily-images or --admin");
            }
            Optional<ApiKey> updated = withKeys(keys -> keys.update(keyId, change));
            if (updated.isEmpty()) {
                spec.commandLine().getErr().println("genqueue: no key with id " + keyId);
                return 1;
            }
            spec.commandLine().getOut().println("Updated key " + keyId + ": " + describe(updated.get()) + ".");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List keys (ids, tenants and limits, never secrets); '-' is no limit.")
    static final class ListKeys extends DataDirOption implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            List<ApiKey> keys = withKeys(KeyStore::list);
            PrintWriter out = spec.commandLine().getOut();
            String format = "%-10s %-24s %-22s %-10s %-6s %-10s %-12s %-5s %s%n";
            out.printf(format, "ID", "TENANT", "CREATED", "RATE", "BURST", "MAX-QUEUED", "DAILY-IMAGES", "ADMIN", "STATE");
            for (ApiKey k : keys) {
                KeyLimits l = k.limits();
                out.printf(format, k.keyId(), k.tenant(), k.createdAt().toString().substring(0, 19) + "Z",
                        l.rate() > 0 ? KeyLimits.formatRate(l.rate()) + "/s" : "-", l.rate() > 0 ? Integer.toString(l.burst()) : "-",
                        orDash(l.maxQueued()), orDash(l.dailyImages()), k.admin() ? "yes" : "no",
                        k.revoked() ? "revoked " + k.revokedAt().toString().substring(0, 19) + "Z" : "active");
            }
            out.flush();
        }
    }

    private static String orDash(int limit) {
        return limit > 0 ? Integer.toString(limit) : "-";
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
