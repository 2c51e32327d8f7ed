package io.genqueue.app;

import io.genqueue.store.postgres.PostgresSigningKeyStore;
import io.genqueue.store.sqlite.SqliteDatabase;
import io.genqueue.store.sqlite.SqliteSigningKeyStore;
import io.genqueue.webhook.SigningKey;
import io.genqueue.webhook.SigningKeyStore;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.BiFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code webhook-keys rotate|list}: the Ed25519 keys webhooks are signed with, in the job store.
 * Safe beside running servers: they read the active key and the JWKS from the store on every use,
 * so a rotation takes effect everywhere at once.
 */
@Command(name = "webhook-keys", mixinStandardHelpOptions = true, description = "Manage the webhook signing keys.",
        subcommands = {WebhookKeysCommand.Rotate.class, WebhookKeysCommand.ListKeys.class})
final class WebhookKeysCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Runs {@code action} on the signing key store the settings name, with the settings. */
    private static <T> T withSigningKeys(KeysCommand.DataDirOption options, BiFunction<SigningKeyStore, Settings, T> action) {
        Settings settings = options.settings();
        if (settings.storage().postgres()) {
            try (PostgresSigningKeyStore keys = PostgresSigningKeyStore.open(Application.postgresConfig(settings), Clock.systemUTC())) {
                return action.apply(keys, settings);
            }
        }
        try (SqliteSigningKeyStore keys = SqliteSigningKeyStore.open(SqliteDatabase.open(settings.dataDir()), Clock.systemUTC())) {
            return action.apply(keys, settings);
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Publish a new signing key now, which signs after --lead while the current one signs until then; "
                    + "the new key's id alone is printed on the last line.")
    static final class Rotate extends KeysCommand.DataDirOption implements Runnable {
        @Option(names = "--lead", description = "How long the new key is published before it signs, so receivers that cache "
                + "the JWKS have it first, e.g. 24h, or 0s after a leak (default GENQUEUE_WEBHOOK_KEY_LEAD, 24h).")
        String lead;

        @Option(names = "--grace", description = "How long the replaced key stays in the JWKS after its last signature, "
                + "e.g. 24h, or 0s after a leak (default GENQUEUE_WEBHOOK_KEY_GRACE, 24h).")
        String grace;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            Duration leadFlag = flag("--lead", lead);
            Duration graceFlag = flag("--grace", grace);
            PrintWriter out = spec.commandLine().getOut();
            withSigningKeys(this, (keys, settings) -> {
                Duration ahead = leadFlag != null ? leadFlag : settings.webhookKeyLead();
                Duration keepOld = graceFlag != null ? graceFlag : settings.webhookKeyGrace();
                boolean replaces = !keys.list().isEmpty(); // for the message only
                SigningKey next = keys.rotate(ahead, keepOld);
                if (!replaces) {
                    out.println("Webhooks are signed with the new key" + (ahead.isZero() ? " from now on" : " from " + next.signsFrom())
                            + ". It is the first.");
                } else {
                    Instant until = next.signsFrom().plus(keepOld);
                    out.println((ahead.isZero() ? "Webhooks are signed with the new key from now on. "
                            : "The new key is in /.well-known/jwks.json now and signs from " + next.signsFrom()
                                    + "; the current key signs until then. ")
                            + (keepOld.isZero() ? "The key it replaces leaves /.well-known/jwks.json " + (ahead.isZero() ? "now." : "then.")
                                    : "The key it replaces stays in /.well-known/jwks.json until " + until + "."));
                }
                out.println(next.kid());
                return null;
            });
            out.flush();
        }

        private static Duration flag(String name, String value) {
            try {
                return value == null ? null : Setting.duration(value.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the signing keys (ids and dates, never private keys).")
    static final class ListKeys extends KeysCommand.DataDirOption implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            PrintWriter out = spec.commandLine().getOut();
            withSigningKeys(this, (keys, settings) -> {
                List<SigningKey> all = keys.list();
                Instant now = Instant.now();
                out.printf("%-44s %-21s %s%n", "KID", "CREATED", "STATE");
                for (SigningKey k : all) {
                    out.printf("%-44s %-21s %s%n", k.kid(), seconds(k.createdAt()), state(k, now));
                }
                return null;
            });
            out.flush();
        }

        private static String state(SigningKey k, Instant now) {
            if (k.signsFrom().isAfter(now)) {
                return "next: published, signs from " + seconds(k.signsFrom());
            }
            if (k.signsAt(now)) {
                return k.retired() ? "active (signs) until " + seconds(k.retiredAt()) + ", published until " + seconds(k.publishedUntil())
                        : "active (signs)";
            }
            return "retired " + seconds(k.retiredAt()) + (k.publishedAt(now)
                    ? ", published until " + seconds(k.publishedUntil()) : ", no longer published");
        }

        private static String seconds(Instant t) {
            return t.toString().substring(0, 19) + "Z";
        }
    }
}
