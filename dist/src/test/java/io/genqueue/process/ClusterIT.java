package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.blob.s3.S3ProxyServer;
import io.genqueue.process.Cluster.Db;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The distributed deployment under load and under failure: three real {@code serve} processes on
 * one PostgreSQL database and one S3 bucket (S3Proxy), talked to over HTTP as clients do, with the
 * database read directly to see what the processes cannot show (attempts, lease owners).
 * <ul>
 *   <li>a worker process is killed with SIGKILL while it runs jobs: its jobs are requeued when
 *       their leases run out and run once more on the surviving worker;
 *   <li>the PostgreSQL server (a private one, see {@link PrivatePostgres}) crashes and comes back
 *       mid-load: the processes reconnect by themselves, and no acknowledged request is lost or
 *       run twice;
 *   <li>without LISTEN/NOTIFY ({@code GENQUEUE_STORE_POLL_ONLY}): workers find jobs by polling, and
 *       a cancel sent through another process reaches the running job through its lease renewal.
 * </ul>
 * In every case each acknowledged request ends successfully exactly once (one "Generated" line in
 * its log) and each of its images downloads from its presigned link with the size the response
 * states.
 */
class ClusterIT {

    /** The log line of a job requeued by the reaper (its worker stopped renewing the lease). */
    private static final String REQUEUED = "Its worker stopped responding on attempt ";

    private static S3ProxyServer s3;

    @BeforeAll
    static void startS3() {
        s3 = S3ProxyServer.start();
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    // ---------------------------------------------------------------- 1. SIGKILL of a worker

    @Test
    void a_worker_killed_mid_job_loses_nothing_and_its_jobs_run_once_more_on_the_survivor() throws Exception {
        int jobs = 100;
        int slots = 8;
        Duration lease = Duration.ofSeconds(3);
        Duration delay = Duration.ofMillis(1000);
        try (TestSchemas schemas = new TestSchemas();
                Cluster cluster = new Cluster(s3, schemas.newSchemaUrl(), "sigkill", Map.of(
                        "GENQUEUE_LEASE", lease.toMillis() + "ms",
                        "GENQUEUE_WORKERS", Integer.toString(slots),
                        "GENQUEUE_PREVIEW_DELAY_MS", Long.toString(delay.toMillis()),
                        "GENQUEUE_STORE_POLL", "250ms",
                        // a run lost to a lapsed lease on a starved machine must not end the job: each run is checked below
                        "GENQUEUE_MAX_ATTEMPTS", "10"))) {
            ServerProcess api = cluster.start("api");
            List<ServerProcess> workers = cluster.startAll("worker", "worker");
            Api client = api.api(cluster.key);

            Map<String, Integer> accepted = submitAll(client, jobs, "sigkill");
            assertThat(accepted).as("every submit answered 200").hasSize(jobs);

            // Kill mid-load: some jobs done, both workers running jobs (their slots full: the queue is long).
            Map<String, String> runningBeforeKill = new HashMap<>();
            Eventually.until(Duration.ofSeconds(30), "jobs done and both workers running jobs", () -> {
                runningBeforeKill.clear();
                runningBeforeKill.putAll(cluster.db.strings("SELECT id, lease_owner FROM jobs WHERE state = 'RUNNING'"));
                return new HashSet<>(runningBeforeKill.values()).size() == 2
                        && cluster.db.count("SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'") >= slots;
            });
            ServerProcess victim = workers.get(0);
            long killedAt = System.currentTimeMillis();
            victim.kill();
            long done = cluster.db.count("SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'");
            System.out.printf("[ClusterIT] SIGKILL of worker pid %d with %d job(s) running in the cluster, %d of %d done%n",
                    victim.process.pid(), runningBeforeKill.size(), done, jobs);

            // Bound, not a measure: the lease, the reaper, and the queue left for one worker's slots, with slack.
            Duration drain = lease.plusSeconds(1).plus(delay.multipliedBy(3L * (jobs / slots + 1))).plusSeconds(20);
            awaitTerminal(cluster.db, accepted.keySet(), drain);
            assertThat(workers.get(1).process.isAlive()).as("the surviving worker\n" + workers.get(1).describe()).isTrue();

            List<String> problems = Collections.synchronizedList(new ArrayList<>());
            Map<String, JsonNode> statuses = verify(client, cluster.db, accepted, problems);
            assertThat(problems).as("problems after the kill").isEmpty();

            // The kill's cost: the jobs the reaper requeued after it (a lease can also lapse before it, on a starved machine).
            Map<String, Long> finished = cluster.db.longs("SELECT id, finished_at FROM jobs");
            Map<String, Instant> requeuedAfterKill = new TreeMap<>();
            AtomicInteger requeuedBefore = new AtomicInteger();
            statuses.forEach((id, status) -> status.path("logs").forEach(line -> {
                if (line.path("message").asText().startsWith(REQUEUED)) {
                    Instant at = Instant.parse(line.path("timestamp").asText());
                    if (at.toEpochMilli() >= killedAt) {
                        requeuedAfterKill.put(id, at);
                    } else {
                        requeuedBefore.incrementAndGet();
                    }
                }
            }));
            Map<String, Long> byOwner = new TreeMap<>();
            requeuedAfterKill.keySet().forEach(id -> byOwner.merge(runningBeforeKill.getOrDefault(id, "claimed after the look"), 1L,
                    Long::sum));
            long requeueMs = requeuedAfterKill.values().stream().mapToLong(at -> at.toEpochMilli() - killedAt).max().orElse(-1);
            long recoveryMs = requeuedAfterKill.keySet().stream().mapToLong(id -> finished.get(id) - killedAt).max().orElse(-1);
            System.out.printf("[ClusterIT] SIGKILL: %d job(s) requeued by the reaper after the kill (by lease owner just before "
                            + "it: %s), the last %.2f s after the kill (lease %.1f s); all of them completed on the survivor "
                            + "%.2f s after the kill; %d lease(s) lapsed before the kill (a starved process); attempts per job: %s%n",
                    requeuedAfterKill.size(), byOwner, requeueMs / 1000.0, lease.toMillis() / 1000.0, recoveryMs / 1000.0,
                    requeuedBefore.get(), histogram(cluster.db.longs("SELECT id, attempt FROM jobs").values()));
            assertThat(requeuedAfterKill).as("jobs of the killed worker, requeued once their leases ran out").isNotEmpty();
        }
    }

    // ---------------------------------------------------------------- 2. PostgreSQL crash and restart

    @Test
    void processes_ride_out_a_postgresql_restart_mid_load_and_lose_no_acknowledged_request() throws Exception {
        long outageMs = 2_000;
        try (PrivatePostgres pg = PrivatePostgres.start();
                Cluster cluster = new Cluster(s3, pg.url(), "pgrestart", Map.of(
                        "GENQUEUE_LEASE", "3s",
                        "GENQUEUE_WORKERS", "4",
                        "GENQUEUE_PREVIEW_DELAY_MS", "300",
                        "GENQUEUE_STORE_POLL", "250ms",
                        "GENQUEUE_MAX_ATTEMPTS", "10"))) {
            ServerProcess first = cluster.start("all");
            List<ServerProcess> nodes = new ArrayList<>(List.of(first));
            nodes.addAll(cluster.startAll("all", "all"));
            List<Api> apis = nodes.stream().map(n -> n.api(cluster.key)).toList();
            String listening = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN genqueue%'";
            Eventually.until(Duration.ofSeconds(20), "three LISTEN sessions", () -> cluster.db.count(listening) == 3);

            Submitter submitter = new Submitter(apis);
            Thread load = Thread.ofPlatform().name("cluster-submitter").start(submitter);
            try {
                Eventually.until(Duration.ofSeconds(60), "load with finished and running jobs", () -> submitter.accepted.size() >= 40
                        && cluster.db.count("SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'") >= 3
                        && cluster.db.count("SELECT count(*) FROM jobs WHERE state = 'RUNNING'") >= 1);
                int acceptedBefore = submitter.accepted.size();
                long running = cluster.db.count("SELECT count(*) FROM jobs WHERE state = 'RUNNING'");
                long downAt = System.nanoTime();
                pg.crash();
                ServerProcess.pause(outageMs); // the length of the outage, not a wait for a state
                pg.startServer();
                long upAt = System.nanoTime();
                submitter.markRestart(upAt);

                long readyAt = awaitReady(nodes, Duration.ofSeconds(30));
                Eventually.until(Duration.ofSeconds(30), "the LISTEN sessions back", () -> cluster.db.count(listening) == 3);
                long listeningAt = System.nanoTime();
                for (int i = 0; i < apis.size(); i++) {
                    Api.Response r = apis.get(i).submit("{\"prompt\":\"after the restart, node " + i + "\",\"output_format\":\"jpeg\"}");
                    assertThat(r.status()).as("a submit through node " + i + " after the restart: " + r.body()).isEqualTo(200);
                    submitter.accepted.put(r.json().get("request_id").asText(), 1);
                }
                Eventually.until(Duration.ofSeconds(60), "40 more accepted after the restart", () -> submitter.acceptedAfterRestart.get() >= 40);
                submitter.stop = true;
                load.join(60_000);

                List<Submitter.Sent> failed = submitter.failed();
                List<Submitter.Sent> outside = failed.stream().filter(s -> s.endNanos() < downAt || s.startNanos() > upAt).toList();
                Map<String, Integer> accepted = new HashMap<>(submitter.accepted);
                System.out.printf("[ClusterIT] PostgreSQL restart: crashed with %d job(s) running and %d accepted; down for %.2f s "
                                + "(stop, %d ms, start with crash recovery); all 3 processes ready %.2f s and LISTENing again "
                                + "%.2f s after it was back; the steady client sent %d submit(s), %d failed (%s); %d accepted in all%n",
                        running, acceptedBefore, (upAt - downAt) / 1e9, outageMs, (readyAt - upAt) / 1e9,
                        (listeningAt - upAt) / 1e9, submitter.sent.size(), failed.size(), describe(failed, downAt), accepted.size());
                assertThat(outside).as("submits that failed while the database was up").isEmpty();

                awaitTerminal(cluster.db, accepted.keySet(), Duration.ofSeconds(90));
                List<String> problems = Collections.synchronizedList(new ArrayList<>());
                Map<String, JsonNode> statuses = verify(apis.get(0), cluster.db, accepted, problems);
                Map<Long, Long> attempts = histogram(cluster.db.longs("SELECT id, attempt FROM jobs").values());
                long requeued = statuses.values().stream().mapToLong(st -> messages(st).stream().filter(m -> m.startsWith(REQUEUED)).count())
                        .sum();
                System.out.printf("[ClusterIT] PostgreSQL restart: all %d accepted job(s) checked; attempts per job: %s; "
                        + "%d run(s) requeued by a reaper (every process lived throughout)%n", accepted.size(), attempts, requeued);
                assertThat(problems).as("problems after the restart").isEmpty();
                for (ServerProcess node : nodes) {
                    assertThat(node.process.isAlive()).as("node " + node.base + " still runs\n" + node.describe()).isTrue();
                }
            } finally {
                submitter.stop = true;
                load.join(60_000);
            }
        }
    }

    // ---------------------------------------------------------------- 3. no notifications: polling only

    @Test
    void without_notifications_workers_poll_for_jobs_and_a_cancel_reaches_the_worker_through_its_lease() throws Exception {
        int jobs = 8; // two workers of 4 slots: both take jobs
        Duration lease = Duration.ofSeconds(3);
        try (TestSchemas schemas = new TestSchemas();
                Cluster cluster = new Cluster(s3, schemas.newSchemaUrl(), "pollonly", Map.of(
                        "GENQUEUE_STORE_POLL_ONLY", "true",
                        "GENQUEUE_STORE_POLL", "200ms",
                        "GENQUEUE_LEASE", lease.toMillis() + "ms",
                        "GENQUEUE_WORKERS", "4",
                        "GENQUEUE_PREVIEW_DELAY_MS", "3000",
                        "GENQUEUE_MAX_ATTEMPTS", "10"))) {
            ServerProcess api = cluster.start("api");
            cluster.startAll("worker", "worker");
            Api client = api.api(cluster.key);

            Map<String, Integer> accepted = submitAll(client, jobs, "poll-only");
            Set<String> owners = new HashSet<>();
            awaitTerminal(cluster.db, accepted.keySet(), Duration.ofSeconds(60),
                    () -> owners.addAll(cluster.db.strings("SELECT id, lease_owner FROM jobs WHERE state = 'RUNNING'").values()));
            List<String> problems = Collections.synchronizedList(new ArrayList<>());
            verify(client, cluster.db, accepted, problems);
            assertThat(problems).as("problems with polling only").isEmpty();
            Map<String, Long> created = cluster.db.longs("SELECT id, created_at FROM jobs");
            Map<String, Long> started = cluster.db.longs("SELECT id, started_at FROM jobs");
            long firstWaitMs = accepted.keySet().stream().mapToLong(id -> started.get(id) - created.get(id)).min().orElse(-1);
            System.out.printf("[ClusterIT] polling only (every 200 ms): %d job(s) run by %d worker process(es); the first "
                    + "started %d ms after its submit%n", jobs, owners.size(), firstWaitMs);
            assertThat(owners).as("worker processes that ran jobs").hasSize(2);

            String id = client.submitOk("{\"prompt\":\"cancel me while running\",\"output_format\":\"jpeg\"}");
            Eventually.until(Duration.ofSeconds(20), id + " in progress", () -> client.status(id).path("status").asText().equals("IN_PROGRESS"));
            long cancelAt = System.nanoTime();
            Api.Response cancel = client.cancel(id);
            assertThat(cancel.status()).as("cancel: " + cancel.body()).isEqualTo(202);
            assertThat(cancel.json().path("status").asText()).isEqualTo("CANCELLATION_REQUESTED");
            JsonNode status = client.awaitCompleted(id);
            double cancelSeconds = (System.nanoTime() - cancelAt) / 1e9;
            System.out.printf("[ClusterIT] polling only: a cancel sent through the api process ended the job running on a "
                    + "worker %.2f s later (lease %.1f s, renewed every %.1f s)%n", cancelSeconds, lease.toMillis() / 1000.0,
                    lease.toMillis() / 3000.0);
            assertThat(status.path("error_type").asText()).as("the running job was cancelled: " + status).isEqualTo("cancelled");
            assertThat(messages(status)).as("its log").contains("Cancelled by the client while running.");
            assertThat(client.getOk(Api.responsePath(id)).status()).isEqualTo(499);
        }
    }

    // ---------------------------------------------------------------- load

    /** Submits {@code n} jobs from four client threads; returns the accepted ids with their image counts. */
    private static Map<String, Integer> submitAll(Api api, int n, String label) throws Exception {
        Map<String, Integer> accepted = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                futures.add(clients.submit(() -> {
                    for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                        int images = i % 4 == 0 ? 2 : 1;
                        String id = api.submitOk("{\"prompt\":\"" + label + " #" + i + "\",\"num_images\":" + images
                                + ",\"output_format\":\"jpeg\"}");
                        accepted.put(id, images);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            clients.shutdownNow();
        }
        return accepted;
    }

    /** One client thread submitting steadily, round robin over the processes, recording every answer. */
    private static final class Submitter implements Runnable {
        /** One submit: when it was sent and answered, its status (0: no answer), the id when accepted. */
        record Sent(long startNanos, long endNanos, int node, int status, String detail) {
        }

        private static final long PACE_MS = 40;

        final List<Api> apis;
        final List<Sent> sent = Collections.synchronizedList(new ArrayList<>());
        final Map<String, Integer> accepted = new ConcurrentHashMap<>();
        final AtomicInteger acceptedAfterRestart = new AtomicInteger();
        volatile long restartedAt = Long.MAX_VALUE;
        volatile boolean stop;

        Submitter(List<Api> apis) {
            this.apis = apis;
        }

        void markRestart(long nanos) {
            restartedAt = nanos;
        }

        @Override
        public void run() {
            for (int n = 0; !stop; n++) {
                int node = n % apis.size();
                long start = System.nanoTime();
                int status;
                String detail;
                try {
                    Api.Response r = apis.get(node).submit("{\"prompt\":\"steady #" + n + "\",\"output_format\":\"jpeg\"}");
                    status = r.status();
                    if (status == 200) {
                        accepted.put(r.json().get("request_id").asText(), 1);
                        if (start > restartedAt) {
                            acceptedAfterRestart.incrementAndGet();
                        }
                    }
                    detail = r.body();
                } catch (IOException e) {
                    status = 0;
                    detail = e.toString();
                } catch (InterruptedException e) {
                    return;
                }
                sent.add(new Sent(start, System.nanoTime(), node, status, detail));
                ServerProcess.pause(PACE_MS); // the submit rate, not a wait for a state
            }
        }

        List<Sent> failed() {
            synchronized (sent) {
                return sent.stream().filter(s -> s.status() != 200).toList();
            }
        }
    }

    private static String describe(List<Submitter.Sent> failed, long downAt) {
        if (failed.isEmpty()) {
            return "none";
        }
        List<String> parts = new ArrayList<>();
        for (Submitter.Sent s : failed) {
            parts.add(String.format("%s at +%.2f s for %.2f s", s.status() == 0 ? "no answer" : Integer.toString(s.status()),
                    (s.startNanos() - downAt) / 1e9, (s.endNanos() - s.startNanos()) / 1e9));
        }
        return String.join(", ", parts);
    }

    // ---------------------------------------------------------------- waiting and checking

    private static void awaitTerminal(Db db, Set<String> ids, Duration timeout) {
        awaitTerminal(db, ids, timeout, () -> {
        });
    }

    /** Waits until every job of {@code ids} is in a final state, running {@code eachPoll} before each look. */
    private static void awaitTerminal(Db db, Set<String> ids, Duration timeout, Runnable eachPoll) {
        try {
            Eventually.value(timeout, "all " + ids.size() + " accepted job(s) finished", () -> {
                eachPoll.run();
                return db.terminal(ids);
            }, finished -> finished == ids.size());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; jobs by state: " + db.strings("SELECT state, count(*) FROM jobs GROUP BY state"), e);
        }
    }

    /** Waits until every node's {@code /readyz} answers 200; returns when. */
    private static long awaitReady(List<ServerProcess> nodes, Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        for (ServerProcess node : nodes) {
            HttpRequest ready = HttpRequest.newBuilder(URI.create(node.base + "/readyz")).timeout(Duration.ofSeconds(15)).build();
            Eventually.until(timeout, node.base + "/readyz 200", () -> {
                try {
                    return http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            });
        }
        return System.nanoTime();
    }

    /**
     * Checks every accepted job through the API: completed without error, exactly one "Generated"
     * line in its log, no run without a reason (every run after the first follows a requeue by the
     * reaper, which logs it), the images asked for, each downloadable from its presigned link with
     * the stated size and a whole JPEG. Returns each job's status (with logs).
     */
    private static Map<String, JsonNode> verify(Api api, Db db, Map<String, Integer> accepted, List<String> problems) throws Exception {
        Map<String, Long> attempts = db.longs("SELECT id, attempt FROM jobs");
        Map<String, JsonNode> statuses = new ConcurrentHashMap<>();
        AtomicInteger images = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            accepted.forEach((id, numImages) -> futures.add(pool.submit(() -> {
                JsonNode status = api.status(id);
                statuses.put(id, status);
                if (!status.path("status").asText().equals("COMPLETED") || status.has("error")) {
                    problems.add(id + ": not completed successfully: " + status);
                    return null;
                }
                long generated = messages(status).stream().filter(m -> m.startsWith("Generated")).count();
                if (generated != 1) {
                    problems.add(id + ": " + generated + " 'Generated' lines: " + messages(status));
                }
                long requeues = messages(status).stream().filter(m -> m.startsWith(REQUEUED)).count();
                if (attempts.get(id) != 1 + requeues) {
                    problems.add(id + ": " + attempts.get(id) + " runs after " + requeues + " requeue(s): " + messages(status));
                }
                Api.Response response = api.get(Api.responsePath(id));
                if (response.status() != 200) {
                    problems.add(id + ": response answered " + response.status() + ": " + response.body());
                    return null;
                }
                JsonNode list = response.json().path("images");
                if (list.size() != numImages) {
                    problems.add(id + ": " + list.size() + " image(s), asked for " + numImages);
                }
                for (JsonNode image : list) {
                    images.incrementAndGet();
                    HttpResponse<byte[]> file = api.download(image.path("url").asText());
                    byte[] bytes = file.body();
                    if (file.statusCode() != 200) {
                        problems.add(id + ": " + image.path("url").asText() + " answered " + file.statusCode());
                    } else if (bytes.length != image.path("file_size").asLong()) {
                        problems.add(id + ": " + bytes.length + " bytes downloaded, the response says " + image.path("file_size"));
                    } else if (bytes.length < 4 || (bytes[0] & 0xFF) != 0xFF || (bytes[1] & 0xFF) != 0xD8
                            || (bytes[bytes.length - 2] & 0xFF) != 0xFF || (bytes[bytes.length - 1] & 0xFF) != 0xD9) {
                        problems.add(id + ": the download is not a whole JPEG");
                    }
                }
                return null;
            })));
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("[ClusterIT] verified %d job(s) and downloaded %d image(s) from presigned S3 links; %d problem(s)%n",
                accepted.size(), images.get(), problems.size());
        return statuses;
    }

    private static List<String> messages(JsonNode status) {
        List<String> out = new ArrayList<>();
        status.path("logs").forEach(line -> out.add(line.path("message").asText()));
        return out;
    }

    private static Map<Long, Long> histogram(java.util.Collection<Long> values) {
        Map<Long, Long> out = new TreeMap<>();
        values.forEach(v -> out.merge(v, 1L, Long::sum));
        return out;
    }
}
