package io.genqueue.bench;

import io.genqueue.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The soak ({@code bench/run --soak MINUTES}): one genqueue process, as users run it (four
 * workers on the preview provider, the heap capped at {@link #HEAP}), under a mixed load of status reads and submits (one in ten,
 * {@code bench/lua/soak.lua}) at half the capacity measured first in the same run (the lower of
 * what the HTTP path answers and what the workers finish), for the given time. Every 10 s (one wrk run per window) it samples the server's resident memory (VmRSS), the
 * window's p99 latency, its open files ({@code /proc/PID/fd}) and threads, and the queue's depth
 * (the {@code queue_position} of a probe submit, so that a backlog the workers cannot clear is not
 * mistaken for a leak). Prints a table and the least-squares slope of each per minute (flat is the
 * target), writes them to {@code target/bench-soak.md} and draws {@link SoakChart}.
 */
final class Soak {

    /** One 10-second window: what wrk measured in it and what the server's process held at its end. */
    record Sample(double minutes, double requestsPerSecond, double p99, long errors, long residentBytes, long openFiles, long threads,
            long queued, int connections) {
    }

    /** A least-squares line: value = intercept + slope x minutes. */
    record Fit(double slope, double intercept) {

        static Fit of(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> y) {
            int n = samples.size();
            double sx = 0;
            double sy = 0;
            double sxx = 0;
            double sxy = 0;
            for (Sample s : samples) {
                double x = s.minutes();
                double v = y.applyAsDouble(s);
                sx += x;
                sy += v;
                sxx += x * x;
                sxy += x * v;
            }
            double d = n * sxx - sx * sx;
            double slope = n < 2 || d == 0 ? 0 : (n * sxy - sx * sy) / d;
            return new Fit(slope, n == 0 ? 0 : (sy - slope * sx) / n);
        }
    }

    static final Duration WINDOW = Duration.ofSeconds(10);
    private static final Duration WARMUP = Duration.ofSeconds(5);
    private static final Duration CAPACITY_RUN = Duration.ofSeconds(10);
    /** Each connection's pause before each request: the rate is set by how many connections pause that long. */
    private static final int DELAY_MS = 20;
    static final String HEAP = "512m";
    /** One request in this many is a submit ({@code GENQUEUE_SUBMIT_EVERY} of soak.lua; its default). */
    private static final int SUBMIT_EVERY = 10;

    private final Path root;
    private final Path jar;

    Soak(Path root) {
        this.root = root;
        this.jar = root.resolve("target/genqueue.jar");
    }

    /** Runs the soak for {@code minutes}; writes the report to {@code out} and the chart to {@code chart}. */
    void run(double minutes, Path out, Path chart) throws Exception {
        Path data = Files.createDirectories(root.resolve("target/bench/soak"));
        try (Stream<Path> old = Files.walk(data)) {
            old.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(data)).forEach(p -> p.toFile().delete());
        }
        long started = System.nanoTime();
        // The heap capped as a deployment would cap it (the process tests use the same): without it the JVM grows its heap
        // toward a quarter of the machine's memory over many minutes, which resident memory would show as a slope.
        try (Child server = Child.genqueue(jar, data, Map.of("JDK_JAVA_OPTIONS", "-Xmx" + HEAP))) {
            String base = "http://127.0.0.1:" + server.port;
            Path ids = ids(server, 200);
            awaitIdleQueue(server); // the seed requests are real jobs: measure once the workers have run them
            Path script = root.resolve("bench/lua/soak.lua");
            Map<String, String> env = Map.of("GENQUEUE_KEY", server.key(), "GENQUEUE_IDS", ids.toString());
            System.out.println("== soak: capacity of the mix (status reads, one submit in ten), " + Harness.CONNECTIONS + " connections");
            Wrk.run(base, script, Harness.CONNECTIONS, WARMUP, env);
            long queuedBefore = queued(server);
            Wrk.Result capacity = Wrk.run(base, script, Harness.CONNECTIONS, CAPACITY_RUN, env);
            long queuedAfter = queued(server);
            // The mix's capacity is the lower of what the HTTP path answers and what the workers finish (one request in
            // ten is a job): a rate the workers cannot keep up with would grow the queue for the whole soak.
            double jobsPerSecond = Math.max(0, capacity.requests() / SUBMIT_EVERY - (queuedAfter - queuedBefore))
                    / (double) CAPACITY_RUN.toSeconds();
            double workersCapacity = jobsPerSecond * SUBMIT_EVERY;
            double target = Math.min(capacity.requestsPerSecond(), workersCapacity) / 2;
            int connections = (int) Math.max(2, Math.min(512, Math.round(target * DELAY_MS / 1000.0)));
            System.out.printf(Locale.ROOT, "   answered %,.0f req/s (p99 %.2f ms) while the workers finished %,.1f jobs/s (a mix of %,.0f req/s); "
                    + "soak at half the lower: %,.0f req/s, %d connections pausing %d ms, for %s minute(s)%n", capacity.requestsPerSecond(),
                    capacity.p99(), jobsPerSecond, workersCapacity, target, connections, DELAY_MS, minutes);
            awaitIdleQueue(server); // the backlog of the capacity run, run before the soak starts
            int firstConnections = connections;
            Map<String, String> paced = new java.util.HashMap<>(env);
            paced.put("GENQUEUE_DELAY_MS", String.valueOf(DELAY_MS));
            List<Sample> samples = new ArrayList<>();
            long soakStart = System.nanoTime();
            long end = soakStart + (long) (minutes * 60e9);
            System.out.println("   minute | req/s | connections | p99 ms | errors | VmRSS MiB | open files | threads | queued");
            while (System.nanoTime() < end) {
                Wrk.Result window = Wrk.run(base, script, connections, WINDOW, paced);
                Sample s = sample(server, (System.nanoTime() - soakStart) / 60e9, window, connections);
                // Each connection's rate is 1 / (pause + latency): steer the connections toward the target rate
                // (half the way each window, so that one slow window does not swing it).
                double wanted = connections * target / Math.max(1, window.requestsPerSecond());
                connections = (int) Math.max(2, Math.min(512, Math.round((connections + wanted) / 2)));
                samples.add(s);
                System.out.printf(Locale.ROOT, "   %6.2f | %,.0f | %d | %.2f | %d | %.1f | %d | %d | %d%n", s.minutes(), s.requestsPerSecond(),
                        s.connections(), s.p99(),
                        s.errors(), s.residentBytes() / 1048576.0, s.openFiles(), s.threads(), s.queued());
                // the report and the chart so far, after every window: a run cut short still leaves its record
                Files.createDirectories(out.toAbsolutePath().getParent());
                Files.writeString(out, report(capacity, workersCapacity, target, firstConnections, minutes, samples,
                        Duration.ofNanos(System.nanoTime() - started), chart), StandardCharsets.UTF_8);
                SoakChart.write(chart, samples);
            }
            String report = report(capacity, workersCapacity, target, firstConnections, minutes, samples, Duration.ofNanos(System.nanoTime() - started), chart);
            System.out.println();
            System.out.println(report);
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, report, StandardCharsets.UTF_8);
            SoakChart.write(chart, samples);
            System.out.println("written to " + out + " and " + chart);
        }
    }

    private Sample sample(Child server, double minutes, Wrk.Result window, int connections) throws IOException {
        long pid = server.process.pid();
        long rss = 0;
        long threads = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            } else if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        long files;
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            files = fds.count();
        }
        return new Sample(minutes, window.requestsPerSecond(), window.p99(), window.errors(), rss, files, threads, queued(server),
                connections);
    }

    /** The queue's depth: the {@code queue_position} of a probe request submitted now (-1 when it was refused). */
    private static long queued(Child server) throws IOException {
        try (RawClient client = new RawClient(server.port)) {
            RawClient.Answer probe = client.post("/v1/queue/nano_banana", server.key(), "{\"prompt\":\"soak probe\"}");
            return probe.status() == 200 ? Json.mapper().readTree(probe.body()).path("queue_position").asLong() : -1;
        }
    }

    /** Waits (up to 5 minutes) until a request submitted now would be next to start. */
    private static void awaitIdleQueue(Child server) throws IOException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (System.nanoTime() < deadline) {
            if (queued(server) < 4) {
                return;
            }
            Harness.pause(1_000);
        }
        System.out.println("   the seed requests were still queued after 5 minutes; measuring anyway");
    }

    /** Ids of {@code n} requests submitted now, one per line in a file, for the status reads. */
    private Path ids(Child server, int n) throws IOException {
        List<String> ids = new ArrayList<>();
        try (RawClient client = new RawClient(server.port)) {
            for (int i = 0; i < n; i++) {
                RawClient.Answer a = client.post("/v1/queue/nano_banana", server.key(), "{\"prompt\":\"soak seed " + i + "\"}");
                if (a.status() != 200) {
                    throw new IllegalStateException("submit answered " + a.status() + ": " + a.body());
                }
                ids.add(Json.mapper().readTree(a.body()).get("request_id").asText());
            }
        }
        Path file = root.resolve("target/bench/soak-ids.txt");
        Files.write(file, ids, StandardCharsets.UTF_8);
        return file;
    }

    static String report(Wrk.Result capacity, double workersCapacity, double target, int connections, double minutes, List<Sample> samples, Duration took,
            Path chart) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, """
                Command: `bench/run --soak %s` (took %d s)
                Date: %s
                Machine: %s
                Load: capacity of the mix (status reads, one submit in ten) %,.0f req/s answered at %d connections, %,.0f req/s \
                by what the workers finished; soaked at half the lower, %,.0f req/s (each connection pausing %d ms before each request, the connections steered toward that rate after each \
                window, %d at first; mean %,.0f req/s); one genqueue process (heap -Xmx%s), 4 workers, preview provider

                """, fmt(minutes), took.toSeconds(), ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME)
                        .substring(0, 16) + " UTC", Report.machine(), capacity.requestsPerSecond(), Harness.CONNECTIONS, workersCapacity, target, DELAY_MS, connections,
                samples.stream().mapToDouble(Sample::requestsPerSecond).average().orElse(0), HEAP));
        sb.append("| minute | req/s | connections | p99 ms | errors | VmRSS MiB | open files | threads | queued |\n"
                + "|---|---|---|---|---|---|---|---|---|\n");
        for (Sample s : samples) {
            sb.append(String.format(Locale.ROOT, "| %.2f | %,.0f | %d | %.2f | %d | %.1f | %d | %d | %d |%n", s.minutes(),
                    s.requestsPerSecond(), s.connections(), s.p99(), s.errors(), s.residentBytes() / 1048576.0, s.openFiles(), s.threads(), s.queued()));
        }
        sb.append("\nSlopes (least squares over the ").append(samples.size()).append(" samples, per minute; flat is the target):\n\n");
        sb.append("| figure | first | last | slope per minute |\n|---|---|---|---|\n");
        slope(sb, "VmRSS MiB", samples, s -> s.residentBytes() / 1048576.0);
        slope(sb, "p99 ms", samples, Sample::p99);
        slope(sb, "open files", samples, s -> s.openFiles());
        slope(sb, "threads", samples, s -> s.threads());
        slope(sb, "queued", samples, s -> s.queued());
        slope(sb, "req/s", samples, Sample::requestsPerSecond);
        long errors = samples.stream().mapToLong(Sample::errors).sum();
        sb.append(String.format(Locale.ROOT, "%nErrors (non-2xx and socket errors) over the soak: %d. Chart: %s%n", errors,
                chart.getFileName()));
        return sb.toString();
    }

    private static void slope(StringBuilder sb, String name, List<Sample> samples, java.util.function.ToDoubleFunction<Sample> y) {
        if (samples.isEmpty()) {
            return;
        }
        Fit fit = Fit.of(samples, y);
        sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %+.3f |%n", name, y.applyAsDouble(samples.get(0)),
                y.applyAsDouble(samples.get(samples.size() - 1)), fit.slope()));
    }

    private static String fmt(double minutes) {
        return minutes == Math.rint(minutes) ? String.valueOf((long) minutes) : String.valueOf(minutes);
    }
}
