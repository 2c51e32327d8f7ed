package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keys create|update|list} with the limit flags, through the command line's entry point, on a data directory. */
class KeysCommandTest {

    @TempDir
    Path dir;

    private Cli.Result keys(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--data-dir";
        all[args.length + 1] = dir.toString();
        String[] withKeys = new String[all.length + 1];
        withKeys[0] = "keys";
        System.arraycopy(all, 0, withKeys, 1, all.length);
        return Cli.run(withKeys);
    }

    private String row(Cli.Result list, String id) {
        return list.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow(() -> new AssertionError("no row for " + id
                + " in\n" + list.out()));
    }

    @Test
    void create_stores_every_limit_and_list_shows_them_without_the_secret() {
        Cli.Result created = keys("create", "--tenant", "acme", "--rate", "5/s", "--burst", "10", "--max-queued", "3",
                "--daily-images", "100", "--admin");
        assertThat(created.code()).isZero();
        String secret = created.lastLine();
        String id = io.genqueue.auth.Keys.idOf(secret);
        assertThat(created.out()).contains("rate 5/s (burst 10), max queued 3, daily images 100, admin");
        Cli.Result plain = keys("create", "--tenant", "acme");
        String plainId = io.genqueue.auth.Keys.idOf(plain.lastLine());

        Cli.Result list = keys("list");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains("RATE", "BURST", "MAX-QUEUED", "DAILY-IMAGES", "ADMIN").doesNotContain(secret);
        assertThat(row(list, id).split("\\s+")).containsSubsequence(id, "acme", "5/s", "10", "3", "100", "yes", "active");
        assertThat(row(list, plainId).split("\\s+")).containsSubsequence(plainId, "acme", "-", "-", "-", "-", "no", "active");
    }

    @Test
    void a_rate_alone_gets_a_burst_of_one_seconds_worth_and_fractions_are_kept() {
        String id = io.genqueue.auth.Keys.idOf(keys("create", "--tenant", "slow", "--rate", "0.5/s").lastLine());
        String fast = io.genqueue.auth.Keys.idOf(keys("create", "--tenant", "fast", "--rate", "20").lastLine());
        Cli.Result list = keys("list");
        assertThat(row(list, id).split("\\s+")).containsSubsequence(id, "slow", "0.5/s", "1");
        assertThat(row(list, fast).split("\\s+")).containsSubsequence(fast, "fast", "20/s", "20");
    }

    @Test
    void update_changes_only_what_it_is_given_and_0_removes_a_limit() {
        String id = io.genqueue.auth.Keys.idOf(keys("create", "--tenant", "acme", "--rate", "5/s", "--max-queued", "3",
                "--daily-images", "100").lastLine());
        Cli.Result updated = keys("update", id, "--max-queued", "0", "--daily-images", "50", "--admin");
        assertThat(updated.code()).isZero();
        assertThat(updated.out()).contains("Updated key " + id + ": rate 5/s (burst 5), daily images 50, admin.");
        assertThat(row(keys("list"), id).split("\\s+")).containsSubsequence(id, "acme", "5/s", "5", "-", "50", "yes");

        assertThat(keys("update", id, "--rate", "0", "--admin=false").code()).isZero();
        assertThat(row(keys("list"), id).split("\\s+")).containsSubsequence(id, "acme", "-", "-", "-", "50", "no");
    }

    @Test
    void bad_values_are_refused_with_a_clear_message_and_change_nothing() {
        Cli.Result noRate = keys("create", "--tenant", "acme", "--burst", "5");
        assertThat(noRate.code()).isEqualTo(2);
        assertThat(noRate.err()).contains("a burst needs a rate");
        Cli.Result badRate = keys("create", "--tenant", "acme", "--rate", "fast");
        assertThat(badRate.code()).isEqualTo(2);
        assertThat(badRate.err()).contains("a rate is N/s");
        Cli.Result negative = keys("create", "--tenant", "acme", "--max-queued", "-1");
        assertThat(negative.code()).isEqualTo(2);
        assertThat(negative.err()).contains("0 (none) or positive");
        assertThat(keys("list").out().lines().count()).as("only the header: no key was made").isEqualTo(1);

        String id = io.genqueue.auth.Keys.idOf(keys("create", "--tenant", "acme").lastLine());
        Cli.Result nothing = keys("update", id);
        assertThat(nothing.code()).isEqualTo(2);
        assertThat(nothing.err()).contains("nothing to change");
        Cli.Result unknown = keys("update", "zzzzzzzz", "--max-queued", "1");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("no key with id zzzzzzzz");
    }
}
