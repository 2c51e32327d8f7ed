package io.genqueue.process;

import static io.genqueue.process.JobChecks.checkImage;
import static io.genqueue.process.JobChecks.countLines;
import static io.genqueue.process.JobChecks.imageDirectoryProblem;
import static io.genqueue.process.JobChecks.imageRefs;
import static io.genqueue.process.JobChecks.integrityCheck;
import static io.genqueue.process.JobChecks.usageDisagreements;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The kill loop ({@code bench/killloop N}; CI runs 3 cycles): a real server process under a mixed
 * load (submits with and without {@code ?fal_webhook=}, cancels, status reads) is killed with
 * SIGKILL at a random moment, restarted on the same data directory, and after each cycle checked:
 * every request answered {@code 200} exists and reaches exactly one final state (a result seen
 * final before a kill is unchanged after it, a success ran its provider once and holds each of its
 * images exactly once, a cancellation only where one was asked), every finished request that
 * asked for a webhook is delivered at least once with its outcome, the usage counts agree with the
 * jobs, and the database the restart opens passes {@code PRAGMA integrity_check}. A line per cycle
 * and a total (accepted, lost, run twice, delivered twice) are printed; any violation fails it.
 *
 * <p>{@code -Dkillloop.cycles=N} (default 3), {@code -Dkillloop.seed=S} (default: random, printed)
 * to repeat a run's kill moments and load.
 */
class KillLoopIT {

    private static final int CYCLES = Integer.getInteger("killloop.cycles", 3);
    private static final long SEED = Long.getLong("killloop.seed", System.nanoTime());
    private static final int CLIENTS = 4;
    /** The load of a cycle lasts between these before the kill (uniformly, from the seed). */
    private static final long MIN_LOAD_MILLIS = 300;
    private static final long MAX_LOAD_MILLIS = 1500;
    /** A short attempt timeout: a delivery the kill cut off is due again after its lease, 2 x this + 10 s. */
    private static final Duration WEBHOOK_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(60);
    /**
     * A bound for a hung start: on two cores shared with other builds (load averages near 40) a
     * start after a kill took up to a minute.
     */
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);

    /** A request that got a 200: what it asked for. */
    record Accepted(int cycle, int numImages, String format, boolean webhook) {
    }

    /** A final state seen through the API before a kill: the outcome (OK or the error_type) and the attempts its log showed. */
    record Final(String outcome, int attempts) {
    }

    /** What one cycle found, for its line and the total. */
    record Cycle(int accepted, int withWebhook, int cancelsAsked, int storedUnanswered, int lost, int ranTwice, int deliveredTwice,
            int violations) {
    }

    private final Map<String, Accepted> accepted = new ConcurrentHashMap<>();
    private final List<String> acceptedOrder = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> cancelAsked = ConcurrentHashMap.newKeySet();
    private final Map<String, Final> seenFinal = new ConcurrentHashMap<>();
    private final Set<String> verified = ConcurrentHashMap.newKeySet();
    private final Set<String> ranTwice = ConcurrentHashMap.newKeySet();
    private final List<String> violations = Collections.synchronizedList(new ArrayList<>());

    @Test
    void sigkill_at_random_moments_under_a_mixed_load_keeps_every_promise() throws Exception {
        long t0 = System.nanoTime();
        Random random = new Random(SEED);
        Path data = ServerProcess.newDataDir("killloop");
        System.out.printf("[KillLoop] %d cycle(s), seed %d (-Dkillloop.seed=%d repeats it), data directory %s%n", CYCLES, SEED, SEED,
                data);
        List<Cycle> cycles = new ArrayList<>();
        try (WebhookCounter receiver = WebhookCounter.start(0, 200).anyOutcome()) {
            Map<String, String> env = Map.of(
                    "GENQUEUE_WORKERS", "8",
                    "GENQUEUE_PREVIEW_DELAY_MS", "100",
                    "GENQUEUE_FETCH_ALLOW", receiver.hostPort(),
                    "GENQUEUE_WEBHOOK_TIMEOUT", WEBHOOK_TIMEOUT.toSeconds() + "s",
                    "GENQUEUE_WEBHOOK_FIRST_RETRY", "500ms");
            ServerProcess first = ServerProcess.serveHealthy(data, env, START_TIMEOUT);
            ServerProcess server = first;
            try {
                String key = first.printedKey()
                        .orElseThrow(() -> new AssertionError("the first start printed no key\n" + first.describe()));
                for (int c = 1; c <= CYCLES && violations.isEmpty(); c++) { // after a violation the data is kept as it is
                    long loadMillis = MIN_LOAD_MILLIS + (long) (random.nextDouble() * (MAX_LOAD_MILLIS - MIN_LOAD_MILLIS));
                    Kill kill;
                    try (ServerProcess killed = server) {
                        kill = loadAndKill(killed, key, c, loadMillis, random.nextLong(), receiver);
                    }
                    long restart = System.nanoTime();
                    server = ServerProcess.serveHealthy(data, env, START_TIMEOUT); // the restart, on the same data
                    long up = System.nanoTime();
                    Cycle cycle = check(server.api(key), data, kill, receiver);
                    cycles.add(cycle);
                    System.out.printf("[KillLoop] cycle %d/%d: killed after %d ms of load; accepted %d (%d with a webhook), "
                                    + "%d cancel(s) asked; at the kill the database held %s; %d stored without an answer; lost %d, "
                                    + "run twice %d, delivered twice %d, violations %d (restart %.1f s, checks %.1f s)%n",
                            c, CYCLES, loadMillis, cycle.accepted(), cycle.withWebhook(), cycle.cancelsAsked(), kill.states(),
                            cycle.storedUnanswered(), cycle.lost(), cycle.ranTwice(), cycle.deliveredTwice(), cycle.violations(),
                            (up - restart) / 1e9, (System.nanoTime() - up) / 1e9);
                }
                int code = server.terminate(Duration.ofSeconds(60));
                if (code != 0 && code != 143) {
                    violations.add("exit code of the last graceful stop: " + code + "\n" + server.describe());
                }
            } finally {
                server.close();
            }
            try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("genqueue.db"))) {
                List<String> integrity = integrityCheck(db);
                if (!integrity.equals(List.of("ok"))) {
                    violations.add("PRAGMA integrity_check after the graceful stop: " + integrity);
                }
                usageDisagreements(db).forEach(d -> violations.add("usage after the graceful stop: " + d));
                Map<String, Long> states = groupCount(db, "SELECT state, count(*) FROM jobs GROUP BY state");
                if (states.containsKey("QUEUED") || states.containsKey("RUNNING")) {
                    violations.add("jobs not final after the graceful stop: " + states);
                }
            }
            long deliveredTwice = accepted.keySet().stream().filter(id -> receiver.count(id) > 1).count();
            System.out.printf("[KillLoop] total: %d cycle(s) in %.0f s; accepted %d (%d with a webhook, %d cancel(s) asked), "
                            + "lost %d, run twice %d, delivered twice %d (%d webhook(s) received), violations %d%n",
                    cycles.size(), (System.nanoTime() - t0) / 1e9, accepted.size(), accepted.values().stream().filter(Accepted::webhook).count(),
                    cancelAsked.size(), cycles.stream().mapToInt(Cycle::lost).sum(), ranTwice.size(), deliveredTwice, receiver.received(),
                    violations.size());
            violations.addAll(receiver.problems().stream().map(p -> "webhook: " + p).toList());
        }
        assertThat(violations).as("violations in the kill loop (seed " + SEED + ", data " + data + ")").isEmpty();
        ServerProcess.deleteTree(data);
    }

    /**
     * A kill: the cycle, the requests of the cycle (answered 200, and stored without an answer),
     * the job states the killed server's database held, and the counts before the cycle.
     */
    record Kill(int cycle, Set<String> jobs, Map<String, Long> states, int storedUnanswered, int lost, int acceptedBefore,
            int cancelsBefore, int ranTwiceBefore, int violationsBefore) {
    }

    /**
     * Loads {@code server} for {@code loadMillis}, kills it (SIGKILL), and reads what its database
     * held (from a copy, so the restart finds it as the kill left it): its integrity, its usage
     * against its jobs, and whether every request answered 200 so far is in it.
     */
    private Kill loadAndKill(ServerProcess server, String key, int cycle, long loadMillis, long seed, WebhookCounter receiver)
            throws Exception {
        Api api = server.api(key);
        int violationsBefore = violations.size();
        int ranTwiceBefore = ranTwice.size();
        int acceptedBefore = accepted.size();
        int cancelsBefore = cancelAsked.size();
        int firstOfCycle = acceptedOrder.size();
        AtomicBoolean killed = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            Random random = new Random(seed + c);
            String name = "cycle " + cycle + " client " + c;
            clients.add(Thread.ofPlatform().name("killloop-client-" + c).start(
                    () -> load(api, receiver, cycle, name, random, firstOfCycle, killed)));
        }
        // A cold server's first answers take a while: the load's length counts from the cycle's first 200.
        Eventually.until(Duration.ofSeconds(30), "a first request of cycle " + cycle + " answered 200",
                () -> accepted.size() > acceptedBefore || !violations.isEmpty());
        Thread.sleep(loadMillis); // the random moment of the kill: the load's length, not a wait for an event
        killed.set(true);
        server.kill();
        for (Thread t : clients) {
            t.join(60_000);
        }
        Map<String, String> states = new LinkedHashMap<>();
        Map<String, Long> counts = DatabaseCopy.read(server.dataDir, db -> {
            List<String> integrity = integrityCheck(db);
            if (!integrity.equals(List.of("ok"))) {
                violations.add("cycle " + cycle + ": PRAGMA integrity_check at the kill: " + integrity);
            }
            usageDisagreements(db).forEach(d -> violations.add("cycle " + cycle + ": usage at the kill: " + d));
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT id, state FROM jobs ORDER BY seq")) {
                while (rs.next()) {
                    states.put(rs.getString(1), rs.getString(2));
                }
            }
            return groupCount(db, "SELECT state, count(*) FROM jobs GROUP BY state");
        });
        List<String> lost = accepted.keySet().stream().filter(id -> !states.containsKey(id)).toList();
        lost.forEach(id -> violations.add("cycle " + cycle + ": " + id + " was answered 200 and is not in the database at the kill"));
        Set<String> unanswered = new LinkedHashSet<>(states.keySet());
        unanswered.removeAll(accepted.keySet());
        unanswered.removeAll(verified);
        Set<String> jobs = new LinkedHashSet<>();
        synchronized (acceptedOrder) {
            jobs.addAll(acceptedOrder.subList(firstOfCycle, acceptedOrder.size()));
        }
        jobs.addAll(unanswered);
        return new Kill(cycle, jobs, counts, unanswered.size(), lost.size(), acceptedBefore, cancelsBefore, ranTwiceBefore,
                violationsBefore);
    }

    /**
     * After the restart: waits for every request of the cycle to be final and every webhook asked
     * for to arrive, then checks each job of the cycle.
     */
    private Cycle check(Api api, Path data, Kill kill, WebhookCounter receiver) throws Exception {
        int cycle = kill.cycle();
        long t = System.nanoTime();
        awaitFinal(api, cycle, kill.jobs());
        long drained = System.nanoTime();
        awaitWebhooks(cycle, receiver, kill.jobs());
        System.out.printf("[KillLoop] cycle %d: final %.1f s, webhooks %.1f s after%n", cycle, (drained - t) / 1e9,
                (System.nanoTime() - drained) / 1e9);
        for (String id : kill.jobs()) {
            verify(api, data, cycle, id, receiver);
        }
        int deliveredTwice = (int) kill.jobs().stream().filter(id -> receiver.count(id) > 1).count();
        return new Cycle(accepted.size() - kill.acceptedBefore(),
                (int) kill.jobs().stream().map(accepted::get).filter(a -> a != null && a.webhook()).count(),
                cancelAsked.size() - kill.cancelsBefore(), kill.storedUnanswered(), kill.lost(), ranTwice.size() - kill.ranTwiceBefore(),
                deliveredTwice, violations.size() - kill.violationsBefore());
    }

    /** One client of the mixed load: half submits (half of them with a webhook), some cancels, the rest status reads. */
    private void load(Api api, WebhookCounter receiver, int cycle, String name, Random random, int firstOfCycle, AtomicBoolean killed) {
        for (int n = 0; !killed.get(); n++) {
            try {
                double op = random.nextDouble();
                if (op < 0.5 || acceptedOrder.size() == firstOfCycle) {
                    submit(api, receiver, cycle, name + " #" + n, random, killed);
                } else if (op < 0.65) {
                    cancel(api, recent(random, firstOfCycle, 10), killed);
                } else {
                    read(api, recent(random, firstOfCycle, 200), killed);
                }
                Thread.sleep(10 + random.nextInt(30)); // the clients' pace, so that each cycle's backlog drains in seconds
            } catch (IOException e) {
                if (!killed.get()) {
                    violations.add("cycle " + cycle + ": " + name + " failed before the kill: " + e);
                }
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void submit(Api api, WebhookCounter receiver, int cycle, String prompt, Random random, AtomicBoolean killed)
            throws IOException, InterruptedException {
        int images = 1 + random.nextInt(2);
        String format = random.nextInt(4) == 0 ? "png" : "jpeg";
        boolean webhook = random.nextBoolean();
        String body = "{\"prompt\":\"kill loop " + prompt + "\",\"num_images\":" + images + ",\"output_format\":\"" + format + "\"}";
        Api.Response r = webhook ? api.submitWithWebhook(body, receiver.encodedUrl()) : api.submit(body);
        if (r.status() == 200) {
            String id = r.json().get("request_id").asText();
            accepted.put(id, new Accepted(cycle, images, format, webhook));
            acceptedOrder.add(id);
        } else if (!killed.get()) {
            violations.add("cycle " + cycle + ": submit answered " + r.status() + ": " + r.body());
        }
    }

    private void cancel(Api api, String id, AtomicBoolean killed) throws IOException, InterruptedException {
        cancelAsked.add(id); // before the answer: a kill can cut the answer off after the cancel was stored
        Api.Response r = api.cancel(id);
        if (r.status() != 202 && r.status() != 400 && !killed.get()) {
            violations.add(id + ": cancel answered " + r.status() + ": " + r.body());
        }
    }

    private void read(Api api, String id, AtomicBoolean killed) throws IOException, InterruptedException {
        Api.Response r = api.get(Api.statusPath(id) + "?logs=1");
        if (r.status() == 200) {
            JsonNode status = r.json();
            Final now = new Final(outcome(status), countLines(status, "Attempt "));
            Final before = seenFinal.putIfAbsent(id, now);
            if (before != null && !before.equals(now)) {
                violations.add(id + ": final state changed while up: " + before + " then " + now);
            }
        } else if (r.status() != 202 && !killed.get()) {
            violations.add(id + ": status answered " + r.status() + ": " + r.body());
        }
    }

    /** One of the newest {@code window} requests of this cycle. */
    private String recent(Random random, int firstOfCycle, int window) {
        synchronized (acceptedOrder) {
            int size = acceptedOrder.size();
            int from = Math.max(firstOfCycle, size - window);
            return acceptedOrder.get(from + random.nextInt(size - from));
        }
    }

    private static String outcome(JsonNode status) {
        return status.hasNonNull("error_type") ? status.get("error_type").asText() : "OK";
    }

    // ---------------------------------------------------------------- after the restart

    /** Waits until every one of {@code ids} is COMPLETED; a 404 is a lost request. */
    private void awaitFinal(Api api, int cycle, Set<String> ids) {
        Set<String> pending = new LinkedHashSet<>(ids);
        try {
            Eventually.value(DRAIN_TIMEOUT, "every request of cycle " + cycle + " final after the restart", () -> {
                int notDone = 0;
                String example = null;
                for (var it = pending.iterator(); it.hasNext() && notDone < 20; ) {
                    String id = it.next();
                    Api.Response r = api.getOk(Api.statusPath(id));
                    if (r.status() == 200) {
                        it.remove();
                    } else if (r.status() == 404) {
                        violations.add("cycle " + cycle + ": " + id + " is unknown after the restart");
                        it.remove();
                    } else {
                        example = example == null ? id + ": " + r.body() : example;
                        notDone++;
                    }
                }
                return pending.size() + " request(s) not final, e.g. " + example;
            }, look -> pending.isEmpty());
        } catch (AssertionError e) {
            violations.add("cycle " + cycle + ": " + e.getMessage());
        }
    }

    /** Waits until every request of {@code ids} that asked for a webhook was delivered at least once. */
    private void awaitWebhooks(int cycle, WebhookCounter receiver, Set<String> ids) {
        List<String> asked = ids.stream().filter(id -> accepted.containsKey(id) && accepted.get(id).webhook()).toList();
        try {
            Eventually.value(DELIVERY_TIMEOUT, "every webhook of cycle " + cycle + " delivered",
                    () -> receiver.missing(asked).size() + " of " + asked.size() + " not delivered, e.g. "
                            + receiver.missing(asked).stream().limit(3).toList(),
                    look -> receiver.missing(asked).isEmpty());
        } catch (AssertionError e) {
            violations.add("cycle " + cycle + ": " + e.getMessage());
        }
    }

    /** Checks one final job: one final state, run once, its images exactly once, its webhook's outcome. */
    private void verify(Api api, Path data, int cycle, String id, WebhookCounter receiver) throws Exception {
        String where = "cycle " + cycle + ": " + id + ": ";
        JsonNode status = api.status(id);
        if (!status.path("status").asText().equals("COMPLETED")) {
            return; // not final: awaitFinal counted it
        }
        verified.add(id);
        String outcome = outcome(status);
        int attempts = countLines(status, "Attempt ");
        int generated = countLines(status, "Generated");
        Final seen = seenFinal.get(id);
        if (seen != null && !seen.outcome().equals(outcome)) {
            violations.add(where + "was " + seen.outcome() + " before a kill and is " + outcome + " after it");
        }
        if (generated > 1 || seen != null && seen.attempts() != attempts) {
            ranTwice.add(id);
            violations.add(where + "ran again after its result (" + generated + " 'Generated' line(s), " + attempts
                    + " attempt(s), " + (seen == null ? "not seen before" : seen.attempts() + " when seen final") + ")");
        }
        Accepted request = accepted.get(id); // null for a request stored but never acknowledged
        String format = request == null ? null : request.format();
        Api.Response response = api.getOk(Api.responsePath(id));
        int images = 0;
        List<JobChecks.ImageRef> served = List.of();
        switch (outcome) {
            case "OK" -> {
                if (generated != 1) {
                    violations.add(where + "succeeded with " + generated + " 'Generated' line(s) in its log");
                }
                if (response.status() != 200) {
                    violations.add(where + "succeeded, and its response answered " + response.status() + ": " + response.body());
                    return;
                }
                JsonNode body = response.json();
                images = body.path("images").size();
                served = imageRefs(body);
                if (request != null && images != request.numImages()) {
                    violations.add(where + images + " image(s), asked for " + request.numImages());
                }
                boolean decodeFully = ThreadLocalRandom.current().nextInt(20) == 0;
                for (JsonNode image : body.path("images")) {
                    String problem = checkImage(api, image, format, decodeFully, new AtomicInteger());
                    if (problem != null) {
                        violations.add(where + problem);
                    }
                }
            }
            case "cancelled" -> {
                if (!cancelAsked.contains(id)) {
                    violations.add(where + "cancelled, but no cancel was asked");
                }
                if (response.status() != 499) {
                    violations.add(where + "cancelled, and its response answered " + response.status() + ": " + response.body());
                }
            }
            default -> violations.add(where + "ended " + outcome + ": " + status.path("error"));
        }
        String directory = imageDirectoryProblem(data, id, served, images, format);
        if (directory != null) {
            violations.add(where + directory);
        }
        if (request != null && request.webhook()) {
            String delivered = receiver.outcome(id);
            if (delivered != null && !delivered.equals(outcome.equals("OK") ? "OK" : "ERROR")) {
                violations.add(where + "ended " + outcome + " and its webhook said " + delivered);
            }
        }
    }

    private static Map<String, Long> groupCount(Connection db, String sql) throws SQLException {
        Map<String, Long> out = new java.util.TreeMap<>();
        try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }
}
