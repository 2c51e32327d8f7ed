package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The webhook outbox's promise, tested the hard way: a real server process works a few hundred
 * requests with webhooks to a receiver in this process, is killed with SIGKILL about halfway
 * through the deliveries (with attempts in flight at the receiver, jobs running and jobs waiting),
 * and is restarted on the same data directory. Every request acknowledged with a 200 must then be
 * delivered at least once; the ones delivered twice (an attempt the kill cut off before its
 * outcome was recorded, posted again once its lease ran out) are counted and printed.
 */
class WebhookCrashIT {

    private static final int REQUESTS = 300;
    private static final int CLIENTS = 8;
    /** A short attempt timeout: an attempt the kill cut off is due again after its lease, 2 x this + 10 s. */
    private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(60);

    @Test
    void sigkill_mid_delivery_loses_no_webhook_of_an_acknowledged_request() throws Exception {
        long t0 = System.nanoTime();
        Path data = ServerProcess.newDataDir("webhook-crash");
        System.out.println("[WebhookCrashIT] data directory " + data);
        try (WebhookCounter receiver = WebhookCounter.start(0, 300)) {
            Map<String, String> env = Map.of(
                    "GENQUEUE_WORKERS", "8",
                    "GENQUEUE_PREVIEW_DELAY_MS", "100",
                    "GENQUEUE_FETCH_ALLOW", receiver.hostPort(),
                    "GENQUEUE_WEBHOOK_TIMEOUT", WEBHOOK_TIMEOUT.toSeconds() + "s",
                    "GENQUEUE_WEBHOOK_FIRST_RETRY", "500ms");
            Set<String> accepted = ConcurrentHashMap.newKeySet();
            String key;
            int deliveredAtKill;
            int inFlightAtKill;
            Map<String, Long> outboxAtKill;
            Map<String, Long> jobsAtKill;
            Set<String> pendingAtKill;
            try (ServerProcess server = ServerProcess.serveHealthy(data, env)) {
                key = server.printedKey().orElseThrow(() -> new AssertionError("the first start printed no key\n" + server.describe()));
                Api api = server.api(key);
                AtomicBoolean killed = new AtomicBoolean();
                List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
                AtomicInteger next = new AtomicInteger();
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    clients.add(Thread.ofPlatform().name("webhook-crash-client-" + c).start(() -> {
                        for (int n = next.getAndIncrement(); n < REQUESTS && !killed.get(); n = next.getAndIncrement()) {
                            submit(api, receiver, n, accepted, killed, unexpected);
                        }
                    }));
                }
                // The kill: about half of the requests delivered, attempts held open at the receiver.
                Eventually.until(Duration.ofSeconds(60), "half of " + REQUESTS + " webhooks delivered, with deliveries in flight",
                        () -> receiver.distinct() >= REQUESTS / 2 && receiver.inFlight() > 0);
                inFlightAtKill = receiver.inFlight();
                deliveredAtKill = receiver.distinct();
                killed.set(true);
                server.kill();
                for (Thread t : clients) {
                    t.join(60_000);
                }
                assertThat(unexpected).as("failures before the kill\n" + server.describe()).isEmpty();
                outboxAtKill = groupCount(data, "SELECT CASE WHEN done_at IS NOT NULL THEN outcome "
                        + "WHEN lease_owner IS NOT NULL THEN 'CLAIMED' ELSE 'DUE' END, count(*) FROM webhook_deliveries GROUP BY 1");
                jobsAtKill = groupCount(data, "SELECT state, count(*) FROM jobs GROUP BY state");
                pendingAtKill = groupCount(data, "SELECT job_id, 1 FROM webhook_deliveries WHERE done_at IS NULL").keySet();
            }
            System.out.printf("[WebhookCrashIT] SIGKILL with %d accepted, %d delivered, %d delivery(ies) held open at the "
                            + "receiver; at the kill the database held jobs %s and deliveries %s%n",
                    accepted.size(), deliveredAtKill, inFlightAtKill, jobsAtKill, outboxAtKill);
            assertThat(jobsAtKill.getOrDefault("QUEUED", 0L) + jobsAtKill.getOrDefault("RUNNING", 0L))
                    .as("requests not yet worked at the kill").isPositive();
            assertThat(outboxAtKill.getOrDefault("CLAIMED", 0L)).as("deliveries claimed (in flight) at the kill").isPositive();

            try (ServerProcess restarted = ServerProcess.serveHealthy(data, env)) {
                long restartAt = System.nanoTime();
                try {
                    Eventually.value(DELIVERY_TIMEOUT, "every accepted request delivered after the restart",
                            () -> receiver.missing(accepted).size() + " of " + accepted.size() + " not delivered, e.g. "
                                    + receiver.missing(accepted).stream().limit(3).toList(),
                            look -> receiver.missing(accepted).isEmpty());
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "\n" + restarted.describe(), e);
                }
                // An attempt the kill cut off may have reached the receiver already; its record comes when
                // its lease lapses and it is made again: wait for that before stopping.
                Api after = restarted.api(key);
                Eventually.until(DELIVERY_TIMEOUT, "the deliveries pending at the kill recorded as delivered",
                        () -> pendingAtKill.stream().allMatch(id -> after.status(id).path("logs").toString()
                                .contains("Webhook delivered to")));
                double drain = seconds(System.nanoTime() - restartAt);
                Map<String, Integer> twice = receiver.repeated();
                System.out.printf("[WebhookCrashIT] accepted %d, delivered %d, delivered twice %d (%d delivery(ies) received "
                                + "in all, %d for requests stored without an answer); all delivered and recorded %.1f s after the restart "
                                + "(lease %d s)%n",
                        accepted.size(), accepted.stream().filter(id -> receiver.count(id) > 0).count(), twice.size(),
                        receiver.received(), receiver.ids().stream().filter(id -> !accepted.contains(id)).count(), drain,
                        WEBHOOK_TIMEOUT.multipliedBy(2).plusSeconds(10).toSeconds());
                assertThat(receiver.missing(accepted)).as("accepted requests never delivered").isEmpty();
                assertThat(receiver.problems()).as("deliveries whose body does not match its header").isEmpty();
                assertThat(twice.values()).as("deliveries received more than twice (one kill)").allMatch(n -> n == 2);
                int code = restarted.terminate(Duration.ofSeconds(60));
                assertThat(code).as("exit code of a graceful stop\n" + restarted.describe()).isIn(0, 143);
            }
            Map<String, Long> outcomes = groupCount(data, "SELECT coalesce(outcome, 'PENDING'), count(*) FROM webhook_deliveries GROUP BY 1");
            System.out.println("[WebhookCrashIT] deliveries after the graceful stop: " + outcomes);
            assertThat(outcomes.keySet()).as("every delivery recorded as delivered").containsExactly("DELIVERED");
        }
        System.out.printf("[WebhookCrashIT] total %.1f s%n", seconds(System.nanoTime() - t0));
        ServerProcess.deleteTree(data);
    }

    private static void submit(Api api, WebhookCounter receiver, int n, Set<String> accepted, AtomicBoolean killed,
            List<String> unexpected) {
        try {
            Api.Response r = api.submitWithWebhook("{\"prompt\":\"webhook crash #" + n + "\",\"output_format\":\"jpeg\"}",
                    receiver.encodedUrl());
            if (r.status() == 200) {
                accepted.add(r.json().get("request_id").asText());
            } else if (!killed.get()) {
                unexpected.add("submit answered " + r.status() + ": " + r.body());
            }
        } catch (IOException e) {
            if (!killed.get()) {
                unexpected.add("submit failed before the kill: " + e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The first column (text) mapped to the second (a count), from a copy of the database. */
    private static Map<String, Long> groupCount(Path data, String sql) throws Exception {
        return DatabaseCopy.read(data, db -> {
            Map<String, Long> out = new TreeMap<>();
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getLong(2));
                }
            }
            return out;
        });
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
