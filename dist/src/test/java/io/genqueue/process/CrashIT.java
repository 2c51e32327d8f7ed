package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.testing.Eventually;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;

/**
 * The durability and exactly-once promises, tested the hard way: a real server process under load
 * from many clients is killed with SIGKILL (twice), restarted on the same data directory, and
 * every request that was acknowledged with a 200 must then exist, complete successfully once, with
 * its images on disk exactly once; results seen before a kill must be untouched by the restart;
 * the usage counts must agree with the jobs at each kill and at the end; and the database must
 * pass SQLite's integrity check after a graceful stop.
 */
class CrashIT {

    private static final int CLIENTS = 16;
    private static final int ROUNDS = Integer.getInteger("crash.rounds", 2);
    /** How long the clients submit before the kill (the kill also waits for a first completed job). */
    private static final Duration LOAD = Duration.ofMillis(Long.getLong("crash.loadMillis", 2000));
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(150);
    private static final Map<String, String> ENV = Map.of(
            "GENQUEUE_WORKERS", "8",
            "GENQUEUE_PREVIEW_DELAY_MS", "50");

    /** A request that got a 200. */
    record Accepted(int numImages, String format) {
    }

    /** One image of a result: its blob key (from the signed URL) and size. */
    record ImageRef(String key, long size) {
    }

    /** A result seen before a kill, with how many runs its log showed then. */
    record Seen(List<ImageRef> images, int attempts) {
    }

    /**
     * What the database held at the instant of a kill (read from a copy of its files), and where
     * its usage counts disagreed with its jobs then (none expected: they commit together).
     */
    record Snapshot(Map<String, String> states, List<String> usageDisagreements) {
        long count(String state) {
            return states.values().stream().filter(state::equals).count();
        }
    }

    private final Map<String, Accepted> accepted = new ConcurrentHashMap<>();
    private final List<String> acceptedOrder = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Seen> completedBeforeKill = new ConcurrentHashMap<>();

    @Test
    void sigkill_under_load_loses_no_acknowledged_request_and_runs_none_twice() throws Exception {
        long t0 = System.nanoTime();
        Path data = ServerProcess.newDataDir("crash");
        System.out.println("[CrashIT] data directory " + data);
        String key;
        List<Snapshot> snapshots = new ArrayList<>();
        Set<String> stored = new LinkedHashSet<>();

        ServerProcess server = ServerProcess.serveHealthy(data, ENV);
        key = server.printedKey().orElse(null);
        if (key == null) {
            server.close();
            throw new AssertionError("the first start printed no key\n" + server.describe());
        }
        for (int round = 1; round <= ROUNDS; round++) {
            if (round > 1) {
                server = ServerProcess.serveHealthy(data, ENV);
            }
            try (ServerProcess running = server) {
                Snapshot snapshot = loadAndKill(running, key, round);
                snapshots.add(snapshot);
                stored.addAll(snapshot.states().keySet());
            }
        }

        try (ServerProcess last = ServerProcess.serveHealthy(data, ENV)) {
            Api api = last.api(key);
            long drainStart = System.nanoTime();
            Set<String> all;
            synchronized (acceptedOrder) {
                all = new LinkedHashSet<>(acceptedOrder);
            }
            all.addAll(stored);
            awaitAllCompleted(api, all);
            System.out.printf("[CrashIT] after the last restart, %d request(s) completed in %.1f s%n", all.size(),
                    seconds(System.nanoTime() - drainStart));

            List<String> problems = verify(api, data, all);
            long requeuedBySnapshots = snapshots.stream().mapToLong(s -> s.count("RUNNING")).sum();
            long requeueLines = countLogLines(api, all, "Its worker stopped responding");
            System.out.printf("[CrashIT] accepted %d, stored without an answer %d, completed before a kill %d, "
                            + "requeued after a kill %d (by the database at the kills) / %d (by the jobs' logs)%n",
                    accepted.size(), stored.size() - stored.stream().filter(accepted::containsKey).count(),
                    completedBeforeKill.size(), requeuedBySnapshots, requeueLines);
            assertThat(requeuedBySnapshots).as("jobs running at the kills").isPositive();
            assertThat(problems).as("problems found after the restart").isEmpty();
            assertThat(snapshots).as("usage against the jobs at the instants of the kills")
                    .allSatisfy(snap -> assertThat(snap.usageDisagreements()).isEmpty());
            assertThat(requeueLines).as("each job running at a kill is requeued once by the next start")
                    .isEqualTo(requeuedBySnapshots);

            int code = last.terminate(Duration.ofSeconds(60));
            assertThat(code).as("exit code of a graceful stop\n" + last.describe()).isIn(0, 143);
        }

        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("genqueue.db"));
                Statement s = db.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
                List<String> lines = new ArrayList<>();
                while (rs.next()) {
                    lines.add(rs.getString(1));
                }
                assertThat(lines).as("PRAGMA integrity_check").containsExactly("ok");
            }
            try (ResultSet rs = s.executeQuery("SELECT state, count(*) FROM jobs GROUP BY state")) {
                Map<String, Integer> states = new TreeMap<>();
                while (rs.next()) {
                    states.put(rs.getString(1), rs.getInt(2));
                }
                System.out.println("[CrashIT] job states after the graceful stop: " + states);
                assertThat(states.keySet()).as("every stored job succeeded").containsExactly("SUCCEEDED");
            }
            assertThat(usageDisagreements(db)).as("usage against the jobs after the graceful stop").isEmpty();
        }
        System.out.printf("[CrashIT] %d kill(s), total %.1f s%n", ROUNDS, seconds(System.nanoTime() - t0));
        ServerProcess.deleteTree(data);
    }

    /**
     * The narrowest crash: a job whose log already says "Generated" but whose status is not yet
     * COMPLETED is killed at that instant. After the restart its success must still be recorded
     * once. The window is short, so the test tries for a while and kills only when it caught it.
     */
    @Test
    void a_kill_just_after_the_success_line_does_not_record_the_success_twice() throws Exception {
        Map<String, String> env = Map.of("GENQUEUE_WORKERS", "1", "GENQUEUE_PREVIEW_DELAY_MS", "100");
        Path data = ServerProcess.newDataDir("crash-window");
        ServerProcess server = ServerProcess.serveHealthy(data, env);
        try {
            String key = server.printedKey().orElseThrow();
            long deadline = System.nanoTime() + Duration.ofSeconds(25).toNanos();
            int tries = 0;
            int caught = 0;
            List<String> twice = new ArrayList<>();
            while (System.nanoTime() < deadline && twice.isEmpty()) {
                Api api = server.api(key);
                String id = api.submitOk("{\"prompt\":\"window " + tries++ + "\",\"output_format\":\"jpeg\"}");
                JsonNode status;
                do {
                    status = api.status(id); // as fast as the server answers: the window is a few milliseconds
                } while (!status.path("status").asText().equals("COMPLETED") && countLines(status, "Generated") == 0);
                if (status.path("status").asText().equals("COMPLETED")) {
                    continue;
                }
                caught++;
                server.kill();
                server = ServerProcess.serveHealthy(data, env);
                JsonNode after = server.api(key).awaitCompleted(id);
                if (countLines(after, "Generated") != 1) {
                    twice.add(id + ": " + after.path("logs"));
                }
            }
            System.out.printf("[CrashIT] success-line window: %d job(s), %d killed with 'Generated' logged while %s, "
                    + "%d recorded twice%n", tries, caught, "IN_PROGRESS", twice.size());
            assertThat(twice).as("jobs whose success was logged twice after a kill between the log line and the result").isEmpty();
        } finally {
            server.close();
        }
        ServerProcess.deleteTree(data);
    }

    // ---------------------------------------------------------------- load and kill

    private Snapshot loadAndKill(ServerProcess server, String key, int round) throws Exception {
        Api api = server.api(key);
        AtomicBoolean killed = new AtomicBoolean();
        AtomicBoolean stopObserving = new AtomicBoolean();
        AtomicInteger inFlight = new AtomicInteger();
        List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
        int acceptedBefore = accepted.size();
        int seenBefore = completedBeforeKill.size();

        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            clients.add(Thread.ofPlatform().name("crash-client-" + c).start(
                    () -> submitLoop(api, round, client, killed, inFlight, unexpected)));
        }
        Thread observer = Thread.ofPlatform().name("crash-observer").start(() -> observe(api, stopObserving, unexpected));

        long start = System.nanoTime();
        Thread.sleep(LOAD.toMillis()); // the length of the load phase, not a wait for an event
        // The kill should find finished, running and waiting jobs: wait for a first result seen in this
        // round, and for the newest request to be waiting (the slots are full while others wait). A
        // bound for a hang: a cold first server took 2.3 s past the load phase on 2 cores.
        Eventually.until(Duration.ofSeconds(10), "a first result seen in round " + round + " and the newest request waiting",
                () -> completedBeforeKill.size() > seenBefore && newestIsQueued(api));
        stopObserving.set(true);
        observer.join();
        int inFlightAtKill = inFlight.get();
        killed.set(true);
        server.kill();
        double loadSeconds = seconds(System.nanoTime() - start);
        for (Thread t : clients) {
            t.join(60_000);
        }
        assertThat(unexpected).as("failures before the kill in round " + round).isEmpty();

        Snapshot snapshot = snapshot(server.dataDir);
        List<String> lost = accepted.keySet().stream().filter(id -> !snapshot.states().containsKey(id)).toList();
        System.out.printf("[CrashIT] round %d: %.1f s of load, %d accepted (%d in all), %d submits in flight at the kill, "
                        + "%d completed and seen before the kill (%d in all); at the kill the database held %d queued, "
                        + "%d running, %d succeeded, %d other%n",
                round, loadSeconds, accepted.size() - acceptedBefore, accepted.size(), inFlightAtKill,
                completedBeforeKill.size() - seenBefore, completedBeforeKill.size(), snapshot.count("QUEUED"),
                snapshot.count("RUNNING"), snapshot.count("SUCCEEDED"),
                snapshot.states().size() - snapshot.count("QUEUED") - snapshot.count("RUNNING") - snapshot.count("SUCCEEDED"));
        assertThat(lost).as("acknowledged requests missing from the database right after kill " + round).isEmpty();
        assertThat(snapshot.count("QUEUED")).as("jobs waiting at kill " + round + "\n" + server.describe()).isPositive();
        assertThat(snapshot.count("SUCCEEDED")).as("jobs finished before kill " + round + "\n" + server.describe()).isPositive();
        return snapshot;
    }

    private void submitLoop(Api api, int round, int client, AtomicBoolean killed, AtomicInteger inFlight, List<String> unexpected) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int n = 0; !killed.get(); n++) {
            int images = 1 + random.nextInt(2);
            String format = random.nextInt(4) == 0 ? "png" : "jpeg";
            String body = "{\"prompt\":\"crash round " + round + " client " + client + " #" + n + "\",\"num_images\":" + images
                    + ",\"output_format\":\"" + format + "\"}";
            inFlight.incrementAndGet();
            try {
                Api.Response r = api.submit(body);
                if (r.status() == 200) {
                    String id = r.json().get("request_id").asText();
                    accepted.put(id, new Accepted(images, format));
                    acceptedOrder.add(id);
                } else if (!killed.get()) {
                    unexpected.add("submit answered " + r.status() + ": " + r.body());
                    return;
                }
            } catch (IOException e) {
                if (!killed.get()) {
                    unexpected.add("submit failed before the kill: " + e);
                }
                return;
            } catch (InterruptedException e) {
                return;
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }

    private boolean newestIsQueued(Api api) throws IOException, InterruptedException {
        String newest;
        synchronized (acceptedOrder) {
            newest = acceptedOrder.get(acceptedOrder.size() - 1);
        }
        Api.Response r = api.get(Api.statusPath(newest));
        return r.status() == 202 && r.json().path("status").asText().equals("IN_QUEUE");
    }

    /** Records results as they appear (oldest requests first, a few per pass), until told to stop. */
    private void observe(Api api, AtomicBoolean stop, List<String> unexpected) {
        List<String> pending = new ArrayList<>();
        int taken = 0;
        try {
            while (!stop.get()) {
                synchronized (acceptedOrder) {
                    for (; taken < acceptedOrder.size(); taken++) {
                        String id = acceptedOrder.get(taken);
                        if (!completedBeforeKill.containsKey(id)) {
                            pending.add(id);
                        }
                    }
                }
                int checked = 0;
                for (Iterator<String> it = pending.iterator(); it.hasNext() && checked < 40 && !stop.get(); checked++) {
                    String id = it.next();
                    Api.Response status = api.get(Api.statusPath(id) + "?logs=1");
                    if (status.status() != 200) {
                        continue;
                    }
                    Api.Response response = api.get(Api.responsePath(id));
                    if (response.status() != 200) {
                        unexpected.add("completed request " + id + " answered " + response.status() + ": " + response.body());
                        it.remove();
                        continue;
                    }
                    completedBeforeKill.put(id, new Seen(imageRefs(response.json()), countLines(status.json(), "Attempt ")));
                    it.remove();
                }
                Thread.sleep(20); // between polls of a real server
            }
        } catch (IOException e) {
            unexpected.add("observer failed before the kill: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The job states in a copy of the database files of a killed server (the original is left for the next start to recover). */
    private static Snapshot snapshot(Path dataDir) throws IOException, SQLException {
        return DatabaseCopy.read(dataDir, db -> {
            Map<String, String> states = new LinkedHashMap<>();
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT id, state FROM jobs ORDER BY seq")) {
                while (rs.next()) {
                    states.put(rs.getString(1), rs.getString(2));
                }
            }
            return new Snapshot(states, usageDisagreements(db));
        });
    }

    /**
     * Where the usage counts (written by triggers with each job change) disagree with the jobs
     * rows: requests submitted, each final state, and the images of the succeeded ones.
     */
    private static List<String> usageDisagreements(Connection db) throws SQLException {
        List<String> out = new ArrayList<>();
        String[][] checks = {
            {"submitted", "SELECT count(*) FROM jobs", "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'SUBMITTED'"},
            {"succeeded", "SELECT count(*) FROM jobs WHERE state = 'SUCCEEDED'",
                "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'SUCCEEDED'"},
            {"failed", "SELECT count(*) FROM jobs WHERE state = 'FAILED'",
                "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'FAILED'"},
            {"cancelled", "SELECT count(*) FROM jobs WHERE state = 'CANCELLED'",
                "SELECT COALESCE(sum(requests), 0) FROM usage_counts WHERE outcome = 'CANCELLED'"},
            {"images", "SELECT COALESCE(sum(json_array_length(result, '$.images')), 0) FROM jobs WHERE state = 'SUCCEEDED'",
                "SELECT COALESCE(sum(images), 0) FROM usage_counts WHERE outcome = 'SUCCEEDED'"}};
        try (Statement s = db.createStatement()) {
            for (String[] check : checks) {
                long jobs = single(s, check[1]);
                long counted = single(s, check[2]);
                if (jobs != counted) {
                    out.add(check[0] + ": " + jobs + " by the jobs, " + counted + " counted");
                }
            }
        }
        return out;
    }

    private static long single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---------------------------------------------------------------- after the restart

    private static void awaitAllCompleted(Api api, Set<String> ids) throws Exception {
        // First, every request must exist at once: a 404 here is an acknowledged request lost.
        List<String> missing = new ArrayList<>();
        Set<String> pending = new LinkedHashSet<>();
        for (String id : ids) {
            int status = api.get(Api.statusPath(id)).status();
            if (status == 404) {
                missing.add(id);
            } else if (status == 202) {
                pending.add(id);
            } else if (status != 200) {
                throw new AssertionError("status of " + id + " answered " + status);
            }
        }
        assertThat(missing).as("stored requests unknown after the restart").isEmpty();
        // Each look checks the oldest pending requests, up to 20 not yet done.
        Eventually.value(DRAIN_TIMEOUT, "every request completed after the restart", () -> {
            String example = null;
            int notDone = 0;
            for (Iterator<String> it = pending.iterator(); it.hasNext() && notDone < 20; ) {
                String id = it.next();
                Api.Response r = api.get(Api.statusPath(id));
                if (r.status() == 200) {
                    it.remove();
                } else {
                    assertThat(r.status()).as("status of " + id).isEqualTo(202);
                    example = example == null ? id + ": " + r.body() : example;
                    notDone++;
                }
            }
            return pending.size() + " request(s) not completed, e.g. " + example;
        }, look -> pending.isEmpty());
    }

    /** Checks every job; returns a description of each problem found. */
    private List<String> verify(Api api, Path data, Set<String> ids) throws Exception {
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        List<String> strays = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger decoded = new AtomicInteger();
        AtomicInteger images = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            int n = 0;
            for (String id : ids) {
                boolean decodeFully = n++ % 20 == 0;
                futures.add(pool.submit(() -> {
                    verifyJob(api, data, id, decodeFully, problems, strays, decoded, images);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        try (Stream<Path> all = Files.walk(data.resolve("images"))) {
            all.filter(p -> p.getFileName().toString().startsWith(".") || p.getFileName().toString().endsWith(".tmp"))
                    .forEach(p -> strays.add(data.relativize(p).toString()));
        }
        System.out.printf("[CrashIT] verified %d job(s) and %d image(s) (%d decoded in full); stray temporary files: %s%n",
                ids.size(), images.get(), decoded.get(), strays.isEmpty() ? "none" : new LinkedHashSet<>(strays));
        return problems;
    }

    private void verifyJob(Api api, Path data, String id, boolean decodeFully, List<String> problems, List<String> strays,
            AtomicInteger decoded, AtomicInteger imageCount) throws Exception {
        JsonNode status = api.status(id);
        if (!status.path("status").asText().equals("COMPLETED") || status.has("error")) {
            problems.add(id + ": not completed successfully: " + status);
            return;
        }
        List<String> messages = new ArrayList<>();
        status.path("logs").forEach(line -> messages.add(line.path("message").asText()));
        long generated = messages.stream().filter(m -> m.startsWith("Generated")).count();
        if (generated != 1) {
            problems.add(id + ": " + generated + " 'Generated' lines in its log: " + messages);
        }
        Api.Response response = api.get(Api.responsePath(id));
        if (response.status() != 200) {
            problems.add(id + ": response answered " + response.status() + ": " + response.body());
            return;
        }
        JsonNode body = response.json();
        Accepted request = accepted.get(id); // null for a request stored but never acknowledged
        int expected = request != null ? request.numImages() : body.path("images").size();
        if (body.path("images").size() != expected) {
            problems.add(id + ": " + body.path("images").size() + " image(s), asked for " + expected);
        }
        Seen seen = completedBeforeKill.get(id);
        if (seen != null) {
            if (!seen.images().equals(imageRefs(body))) {
                problems.add(id + ": result changed after a restart: before " + seen.images() + ", after " + imageRefs(body));
            }
            int attempts = countLines(status, "Attempt ");
            if (attempts != seen.attempts()) {
                problems.add(id + ": ran again after it was seen completed (" + seen.attempts() + " run(s) then, " + attempts
                        + " now): " + messages);
            }
        }
        for (JsonNode image : body.path("images")) {
            imageCount.incrementAndGet();
            String problem = checkImage(api, image, request, decodeFully, decoded);
            if (problem != null) {
                problems.add(id + ": " + problem);
            }
        }
        Path dir = data.resolve("images").resolve(id);
        List<String> files = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> list = Files.list(dir)) {
                list.map(p -> p.getFileName().toString()).sorted().forEach(files::add);
            }
        }
        List<String> real = files.stream().filter(f -> !f.startsWith(".") && !f.endsWith(".tmp")).toList();
        // Exactly the served images: each run writes keys of its own (the attempt is in them), and the
        // run that recorded the outcome deletes what runs killed before it left.
        String ext = request == null ? null : request.format().equals("jpeg") ? "jpg" : "png";
        List<String> wanted = imageRefs(body).stream().map(ref -> ref.key().substring(ref.key().indexOf('/') + 1)).sorted()
                .toList();
        if (!real.equals(wanted) || wanted.size() != expected
                || (ext != null && !wanted.stream().allMatch(name -> name.endsWith("." + ext)))) {
            problems.add(id + ": image directory holds " + files + ", expected the served " + wanted + " (" + expected
                    + " ." + ext + ")");
        }
    }

    /** Downloads one image and checks it against what the response says of it; null when it is fine. */
    private static String checkImage(Api api, JsonNode image, Accepted request, boolean decodeFully, AtomicInteger decoded)
            throws Exception {
        String url = image.path("url").asText();
        HttpResponse<byte[]> file = api.download(url);
        if (file.statusCode() != 200) {
            return url + " answered " + file.statusCode();
        }
        byte[] bytes = file.body();
        if (bytes.length != image.path("file_size").asLong()) {
            return url + ": " + bytes.length + " bytes, response says " + image.path("file_size");
        }
        String contentType = image.path("content_type").asText();
        if (request != null && !contentType.equals(request.format().equals("jpeg") ? "image/jpeg" : "image/png")) {
            return url + ": content type " + contentType + " for format " + request.format();
        }
        boolean complete = contentType.equals("image/png") ? endsWith(bytes, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82)
                : endsWith(bytes, 0xFF, 0xD9);
        if (!complete) {
            return url + ": the file does not end as a whole " + contentType + " does";
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return url + ": not an image ImageIO knows";
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                if (width != image.path("width").asInt() || height != image.path("height").asInt()) {
                    return url + ": " + width + "x" + height + ", response says " + image.path("width") + "x" + image.path("height");
                }
                if (decodeFully) {
                    reader.read(0);
                    decoded.incrementAndGet();
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            return url + ": does not decode: " + e.getMessage();
        }
        return null;
    }

    private static boolean endsWith(byte[] bytes, int... tail) {
        if (bytes.length < tail.length) {
            return false;
        }
        for (int i = 0; i < tail.length; i++) {
            if ((bytes[bytes.length - tail.length + i] & 0xFF) != tail[i]) {
                return false;
            }
        }
        return true;
    }

    private static List<ImageRef> imageRefs(JsonNode response) {
        List<ImageRef> refs = new ArrayList<>();
        for (JsonNode image : response.path("images")) {
            String path = URI.create(image.path("url").asText()).getPath();
            refs.add(new ImageRef(path.substring(path.indexOf("/files/") + "/files/".length()), image.path("file_size").asLong()));
        }
        return refs;
    }

    private static int countLines(JsonNode status, String prefix) {
        int n = 0;
        for (JsonNode line : status.path("logs")) {
            if (line.path("message").asText().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }

    private static long countLogLines(Api api, Set<String> ids, String prefix) {
        Map<String, Integer> counts = new HashMap<>();
        for (String id : ids) {
            int n = countLines(api.status(id), prefix);
            if (n > 0) {
                counts.put(id, n);
            }
        }
        return counts.values().stream().mapToLong(Integer::longValue).sum();
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
