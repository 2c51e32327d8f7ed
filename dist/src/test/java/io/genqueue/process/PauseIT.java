package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.blob.s3.S3ProxyServer;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A worker paused past its lease: a server process stopped with {@code kill -STOP} while it runs
 * jobs, its leases reaped and the jobs run again, then resumed with {@code kill -CONT}. What must
 * hold: each job has exactly one outcome (one "Generated" line, one final state), every run of the
 * paused process that lost its job says so in one log line (job, attempt, owner) and deletes the
 * images it stored, and what is stored for a job is exactly what its response serves: the images of
 * the run that recorded the outcome (the attempt is in each key).
 * <ul>
 *   <li>PostgreSQL and S3, three processes: an API process, the paused worker, and a second worker
 *       started once the first is stopped, which runs every job (the reaped ones again). The paused
 *       worker resumes after the others finished everything: every run it had is late.
 *   <li>SQLite, one process (it owns its data directory; no second server can open it): paused
 *       past its lease, its own reaper and its resumed workers race, as a paused process's parts do.
 *       A pause in which the renewal runs first costs nothing (the jobs go on), so the test pauses
 *       again, with new jobs, until pauses have fenced out runs.
 * </ul>
 */
class PauseIT {

    /** The job log line of a run the reaper requeued. */
    private static final String REQUEUED = "Its worker stopped responding on attempt ";
    /** The server's line for a run that lost its job; its first group is the job id. */
    private static final Pattern FENCED = Pattern.compile(
            "job (\\S+) attempt (\\d+) \\(owner (p-[0-9a-f-]+)\\): fenced out, another run holds the job \\(([^)]*)\\); "
                    + "its outcome is discarded and the (\\d+) image\\(s\\) it stored are deleted");
    /** The attempt in a blob key ({@code <job>/a<attempt>-<index>.<ext>}). */
    private static final Pattern KEY_ATTEMPT = Pattern.compile("/a(\\d+)-\\d+\\.[a-z]+$");

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

    // ---------------------------------------------------------------- PostgreSQL, three processes

    @Test
    void a_worker_paused_past_its_lease_is_fenced_out_on_postgres_and_its_late_images_are_deleted() throws Exception {
        int jobs = 24;
        int slots = 8;
        String bucket = "pause";
        try (TestSchemas schemas = new TestSchemas();
                Cluster cluster = new Cluster(s3, schemas.newSchemaUrl(), bucket, Map.of(
                        "GENQUEUE_LEASE", "2s",
                        "GENQUEUE_WORKERS", Integer.toString(slots),
                        "GENQUEUE_PREVIEW_DELAY_MS", "1500",
                        "GENQUEUE_STORE_POLL", "250ms",
                        "GENQUEUE_MAX_ATTEMPTS", "10"))) {
            ServerProcess api = cluster.start("api");
            ServerProcess paused = cluster.start("worker");
            Api client = api.api(cluster.key);
            Map<String, Integer> accepted = submit(client, jobs, "pg pause");

            Eventually.until(Duration.ofSeconds(60), "the first worker running a full set of jobs",
                    () -> cluster.db.count("SELECT count(*) FROM jobs WHERE state = 'RUNNING'") == slots);
            signal(paused, "STOP");
            try {
                // The second worker starts only now, so every job the first one held is taken from it.
                ServerProcess winner = cluster.start("worker");
                Eventually.value(Duration.ofSeconds(120), "every job finished while the first worker is stopped",
                        () -> cluster.db.terminal(accepted.keySet()), n -> n == jobs);
                assertThat(winner.process.isAlive()).isTrue();
            } finally {
                signal(paused, "CONT");
            }

            Set<String> reaped = reaped(client, accepted.keySet());
            assertThat(reaped).as("jobs taken from the stopped worker").isNotEmpty();
            Map<String, MatchResult> fenced = awaitFenced(paused, reaped);
            assertThat(fenced.values()).as("each fenced-out run names this process's lease owner")
                    .allSatisfy(m -> assertThat(m.group(3)).isEqualTo(fenced.values().iterator().next().group(3)));

            List<String> problems = new ArrayList<>();
            String prefix = "images/";
            Map<String, List<String>> stored = new LinkedHashMap<>();
            for (S3Object object : s3.client().listObjectsV2Paginator(l -> l.bucket(bucket).prefix(prefix)).contents()) {
                String key = object.key().substring(prefix.length());
                stored.computeIfAbsent(key.substring(0, key.indexOf('/')), k -> new ArrayList<>()).add(key);
            }
            verify(client, accepted, reaped, fenced, id -> stored.getOrDefault(id, List.of()), problems);
            assertThat(problems).as("problems after the pause").isEmpty();
            assertThat(paused.process.isAlive()).as("the resumed worker\n" + paused.describe()).isTrue();
            System.out.printf("[PauseIT] postgres: %d job(s), %d taken from the stopped worker, fenced out: %d by a refused "
                    + "finish, %d by a lost lease%n", jobs, reaped.size(), count(fenced, "its finish was refused"),
                    count(fenced, "its lease was lost"));
        }
    }

    // ---------------------------------------------------------------- SQLite, one process

    @Test
    void a_sqlite_server_paused_past_its_lease_records_one_outcome_per_job_and_keeps_only_the_served_images()
            throws Exception {
        int slots = 8;
        Map<String, String> env = Map.of(
                "GENQUEUE_LEASE", "2s",
                "GENQUEUE_WORKERS", Integer.toString(slots),
                "GENQUEUE_PREVIEW_DELAY_MS", "1500",
                "GENQUEUE_MAX_ATTEMPTS", "20");
        Path data = ServerProcess.newDataDir("pause");
        try (ServerProcess server = ServerProcess.serveHealthy(data, env)) {
            String key = server.printedKey().orElseThrow(() -> new AssertionError("no key printed\n" + server.describe()));
            Api client = server.api(key);
            Map<String, Integer> accepted = new LinkedHashMap<>();
            Set<String> reaped = new TreeSet<>();
            int pauses = 0;
            while (reaped.isEmpty() && pauses < 8) {
                pauses++;
                Map<String, Integer> round = submit(client, 2 * slots, "sqlite pause " + pauses);
                accepted.putAll(round);
                Eventually.until(Duration.ofSeconds(60), "a full set of jobs running",
                        () -> count(data, "SELECT count(*) FROM jobs WHERE state = 'RUNNING'") == slots);
                signal(server, "STOP");
                try {
                    long leasesEnd = count(data, "SELECT max(lease_until) FROM jobs WHERE state = 'RUNNING'");
                    Eventually.until(Duration.ofSeconds(30), "the stopped server's leases ran out",
                            () -> System.currentTimeMillis() > leasesEnd + 500);
                } finally {
                    signal(server, "CONT");
                }
                Eventually.value(Duration.ofSeconds(120), "every job of pause " + pauses + " finished",
                        () -> count(data, "SELECT count(*) FROM jobs WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED')"),
                        n -> n == accepted.size());
                reaped.addAll(reaped(client, round.keySet()));
            }
            assertThat(reaped).as("jobs its own reaper took from its paused runs, in " + pauses + " pause(s)").isNotEmpty();
            Map<String, MatchResult> fenced = awaitFenced(server, reaped);

            List<String> problems = new ArrayList<>();
            verify(client, accepted, reaped, fenced, id -> files(data.resolve("images").resolve(id), id), problems);
            assertThat(problems).as("problems after the pauses").isEmpty();
            System.out.printf("[PauseIT] sqlite: %d pause(s), %d job(s), %d reaped, fenced out: %d by a refused finish, "
                    + "%d by a lost lease%n", pauses, accepted.size(), reaped.size(), count(fenced, "its finish was refused"),
                    count(fenced, "its lease was lost"));
            assertThat(server.terminate(Duration.ofSeconds(60))).as("exit of a graceful stop").isIn(0, 143);
        }
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("genqueue.db"));
                Statement s = db.createStatement(); ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("ok");
        }
        ServerProcess.deleteTree(data);
    }

    // ---------------------------------------------------------------- checks

    /**
     * Every job: completed successfully with one "Generated" line; its stored images exactly the
     * served ones, all of the last attempt (the run that recorded it), each downloading whole; a
     * reaped job's served images of a later attempt than the run that lost it.
     */
    private static void verify(Api client, Map<String, Integer> accepted, Set<String> reaped, Map<String, MatchResult> fenced,
            Function<String, List<String>> storedKeys, List<String> problems) throws Exception {
        for (Map.Entry<String, Integer> job : accepted.entrySet()) {
            String id = job.getKey();
            JsonNode status = client.status(id);
            List<String> messages = messages(status);
            if (!status.path("status").asText().equals("COMPLETED") || status.has("error")) {
                problems.add(id + ": not completed successfully: " + status);
                continue;
            }
            long generated = messages.stream().filter(m -> m.startsWith("Generated")).count();
            if (generated != 1) {
                problems.add(id + ": " + generated + " 'Generated' lines: " + messages);
            }
            int lastAttempt = (int) messages.stream().filter(m -> m.startsWith("Attempt ")).count();
            JsonNode images = client.getOk(Api.responsePath(id)).json().path("images");
            if (images.size() != job.getValue()) {
                problems.add(id + ": " + images.size() + " image(s), asked for " + job.getValue());
            }
            List<String> served = new ArrayList<>();
            for (JsonNode image : images) {
                String url = image.path("url").asText();
                String path = URI.create(url).getPath();
                String key = path.substring(path.indexOf(id));
                served.add(key);
                Matcher attempt = KEY_ATTEMPT.matcher(key);
                if (!attempt.find() || Integer.parseInt(attempt.group(1)) != lastAttempt) {
                    problems.add(id + ": served " + key + ", not an image of its last attempt " + lastAttempt);
                }
                HttpResponse<byte[]> file = client.download(url);
                if (file.statusCode() != 200 || file.body().length != image.path("file_size").asLong()) {
                    problems.add(id + ": " + key + " downloaded " + file.statusCode() + " with " + file.body().length
                            + " bytes, the response says " + image.path("file_size"));
                }
            }
            List<String> stored = new ArrayList<>(storedKeys.apply(id));
            if (!new HashSet<>(stored).equals(new HashSet<>(served)) || stored.size() != served.size()) {
                problems.add(id + ": stored " + stored + ", served " + served + " (a stray image of a run that lost)");
            }
            if (reaped.contains(id)) {
                MatchResult line = fenced.get(id);
                if (line == null) {
                    problems.add(id + ": reaped, but no run of it logged that it was fenced out");
                } else if (Integer.parseInt(line.group(2)) >= lastAttempt) {
                    problems.add(id + ": the fenced-out run is attempt " + line.group(2) + ", the last is " + lastAttempt);
                }
            }
        }
    }

    /** The jobs among {@code ids} whose log says the reaper requeued them. */
    private static Set<String> reaped(Api client, Set<String> ids) {
        Set<String> out = new TreeSet<>();
        for (String id : ids) {
            if (messages(client.status(id)).stream().anyMatch(m -> m.startsWith(REQUEUED))) {
                out.add(id);
            }
        }
        return out;
    }

    /** Waits until the process logged a fenced-out line for each of {@code jobs}; returns the last line per job. */
    private static Map<String, MatchResult> awaitFenced(ServerProcess process, Set<String> jobs) {
        return Eventually.value(Duration.ofSeconds(60), "a fenced-out line for each of " + jobs.size() + " reaped job(s)", () -> {
            Map<String, MatchResult> lines = new LinkedHashMap<>();
            FENCED.matcher(process.out.text()).results().forEach(r -> lines.put(r.group(1), r));
            return lines;
        }, lines -> lines.keySet().containsAll(jobs));
    }

    private static long count(Map<String, MatchResult> fenced, String how) {
        return fenced.values().stream().filter(m -> m.group(4).equals(how)).count();
    }

    private static Map<String, Integer> submit(Api client, int n, String label) {
        Map<String, Integer> accepted = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int images = i % 2 == 0 ? 2 : 1;
            accepted.put(client.submitOk("{\"prompt\":\"" + label + " #" + i + "\",\"num_images\":" + images
                    + ",\"output_format\":\"jpeg\"}"), images);
        }
        return accepted;
    }

    private static List<String> messages(JsonNode status) {
        List<String> out = new ArrayList<>();
        status.path("logs").forEach(line -> out.add(line.path("message").asText()));
        return out;
    }

    /** {@code kill -<signal> <pid>}. */
    private static void signal(ServerProcess process, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + signal + " " + process.process.pid() + " failed");
        }
    }

    /** One number from the server's SQLite database, read by a connection of this process (WAL: readers never block it). */
    private static long count(Path data, String sql) throws Exception {
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("genqueue.db"));
                Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The blob keys of a job's image directory (temporary files of a put included: none may be left). */
    private static List<String> files(Path dir, String id) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> id + "/" + p.getFileName()).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
