package io.genqueue.bench;

import io.genqueue.app.Embedded;
import io.genqueue.json.Json;
import io.genqueue.provider.preview.PreviewProvider;
import io.genqueue.store.postgres.TestSchemas;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark harness: measures genqueue against a bare server on the same machine, in one run,
 * and writes the table (with the command, the machine and the date) to {@code BENCHMARKS.md}.
 * Started by {@code bench/run} (which builds and installs what it needs); {@code --short} runs
 * every scenario for a few seconds, so CI can check that the harness still works.
 *
 * <p>Scenarios 0-2 and 5 measure servers in their own JVMs, loaded by wrk (64 connections);
 * scenarios 3, 4 and 6 run genqueue inside this JVM with a stopwatch around the provider, so that
 * pickup and overhead are timed on one clock. Scenarios P1 and P2 run three genqueue processes on
 * one PostgreSQL schema (made for the scenario, dropped after it): P1 loads three {@code serve}
 * JVMs with one wrk, P2 runs three {@link Embedded} instances, each with its own store (pool,
 * LISTEN connection, submit writer), in this JVM, so the path between them goes through
 * PostgreSQL exactly as between processes while send and pickup share one clock. PostgreSQL must
 * be running at {@code 127.0.0.1:5432} (database {@code test}, user {@code postgres}); the
 * harness checks that first and stops with a message if it is not.
 */
public final class Harness {

    private static final String BODY = "{\"prompt\":\"A red apple on a white table, clean studio lighting, simple background, "
            + "product shot suitable for ecommerce and ads\",\"aspect_ratio\":\"4:3\"}";
    static final int CONNECTIONS = 64;

    private final Plan plan;
    private final Path root;
    private final Path jar;
    private final String classPath;
    private final List<Row> rows = new ArrayList<>();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private Wrk.Result bareGet;
    private Wrk.Result barePost;

    /** How long and how big each scenario is. */
    record Plan(boolean isShort, Duration warmup, Duration measure, int pickupRuns, int scaleJobs, int slots,
            Duration slowProvider, Duration slotRun) {

        static Plan of(boolean isShort) {
            return isShort
                    ? new Plan(true, Duration.ofSeconds(1), Duration.ofSeconds(3), 60, 20_000, 16, Duration.ofMillis(500),
                            Duration.ofSeconds(8))
                    : new Plan(false, Duration.ofSeconds(5), Duration.ofSeconds(15), 1_000, 1_000_000, 64, Duration.ofSeconds(2),
                            Duration.ofSeconds(60));
        }
    }

    /** One line of the results table. */
    record Row(String scenario, String figure, String measured, String ratio, String target, String met) {
    }

    private Harness(Plan plan, Path root) {
        this.plan = plan;
        this.root = root;
        this.jar = root.resolve("target/genqueue.jar");
        this.classPath = System.getProperty("java.class.path"); // the bare server runs on the harness's own class path
    }

    public static void main(String[] args) throws Exception {
        boolean isShort = Arrays.asList(args).contains("--short");
        Path root = Path.of("").toAbsolutePath();
        int soak = Arrays.asList(args).indexOf("--soak");
        if (soak >= 0) {
            // --soak MINUTES [--out FILE] [--chart PNG]: the soak alone (Soak); the report and the chart go under target/
            // unless named (the README's chart is docs/soak.png)
            if (soak + 1 >= args.length || !args[soak + 1].matches("[0-9]+(\\.[0-9]+)?")) {
                System.err.println("[bench] FAILED: --soak needs the minutes to run, e.g. bench/run --soak 30");
                System.exit(2);
            }
            Path report = root.resolve("target/bench-soak.md");
            Path chart = root.resolve("target/bench/soak.png");
            for (int i = 0; i < args.length - 1; i++) {
                if (args[i].equals("--out")) {
                    report = Path.of(args[i + 1]).toAbsolutePath();
                }
                if (args[i].equals("--chart")) {
                    chart = Path.of(args[i + 1]).toAbsolutePath();
                }
            }
            new Soak(root).run(Double.parseDouble(args[soak + 1]), report, chart);
            return;
        }
        Path out = root.resolve(isShort ? "target/bench-short.md" : "BENCHMARKS.md");
        // --only a,b runs the baseline and the named steps (submits, submit-webhooks, polls, scale, pickup, slots, webhooks,
        // pg-submits, pg-pickup, pg-status), for profiling one thing; its partial table never replaces BENCHMARKS.md's.
        java.util.Set<String> only = null;
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--out")) {
                out = Path.of(args[i + 1]).toAbsolutePath();
            }
            if (args[i].equals("--only")) {
                only = java.util.Set.of(args[i + 1].split(","));
                out = root.resolve("target/bench-only.md");
            }
        }
        java.util.function.Predicate<String> runs = only == null ? step -> true : only::contains;
        Harness h = new Harness(Plan.of(isShort), root);
        try {
            TestSchemas.execute("SELECT 1");
        } catch (AssertionError e) {
            System.err.println("[bench] FAILED: PostgreSQL is not answering at 127.0.0.1:5432 (database test, user postgres, "
                    + "trust), which scenarios P1 and P2 need; start it and run again. Cause: "
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
            System.exit(1);
        }
        long started = System.nanoTime();
        h.baseline();
        if (runs.test("submits")) {
            h.submitsAndStatusReads();
        }
        if (runs.test("submit-webhooks")) {
            h.submitsWithWebhooks();
        }
        if (runs.test("polls")) {
            h.polling();
        }
        if (runs.test("scale")) {
            h.scale();
        }
        if (runs.test("pickup")) {
            h.pickupAndOverhead();
        }
        if (runs.test("slots")) {
            h.slotUse();
        }
        if (runs.test("webhooks")) {
            h.webhooks();
        }
        if (runs.test("pg-submits")) {
            h.postgresSubmits();
        }
        if (runs.test("pg-pickup")) {
            h.postgresPickup();
        }
        if (runs.test("pg-status")) {
            h.postgresStatusReads();
        }
        String table = h.table();
        System.out.println();
        System.out.println(table);
        Report.write(out, table, isShort, Duration.ofNanos(System.nanoTime() - started));
        System.out.println("written to " + out);
    }

    // ---------------------------------------------------------------- scenarios

    /** 0: the bare server, loaded exactly like genqueue. */
    private void baseline() throws IOException {
        step("0. baseline: bare Helidon GET and 300-byte JSON POST");
        try (Child bare = Child.bare(classPath)) {
            String base = "http://127.0.0.1:" + bare.port;
            Path post = root.resolve("bench/lua/post.lua");
            Wrk.run(base + "/ping", null, CONNECTIONS, plan.warmup(), Map.of());
            Wrk.run(base + "/echo", post, CONNECTIONS, plan.warmup(), Map.of());
            bareGet = Wrk.run(base + "/ping", null, CONNECTIONS, plan.measure(), Map.of());
            barePost = Wrk.run(base + "/echo", post, CONNECTIONS, plan.measure(), Map.of());
        }
        rows.add(new Row("0. bare server", "GET req/s (p50 / p99)", rps(bareGet), "1.00", "", ""));
        rows.add(new Row("0. bare server", "POST req/s (p50 / p99)", rps(barePost), "1.00", "", ""));
    }

    /** 1 and 2: durable submits, then status reads of existing jobs, on a server that runs no jobs. */
    private void submitsAndStatusReads() throws Exception {
        step("1. durable submits, 2. status reads");
        try (Child server = Child.genqueue(jar, fresh("submits"), Map.of("GENQUEUE_WORKERS", "0"))) {
            String base = "http://127.0.0.1:" + server.port;
            Map<String, String> env = Map.of("GENQUEUE_KEY", server.key());
            Path submit = root.resolve("bench/lua/submit.lua");
            Wrk.run(base + "/v1/queue/nano_banana", submit, CONNECTIONS, plan.warmup(), env);
            Wrk.Result submits = Wrk.run(base + "/v1/queue/nano_banana", submit, CONNECTIONS, plan.measure(), env);
            double ratio = submits.requestsPerSecond() / barePost.requestsPerSecond();
            rows.add(new Row("1. durable submits", "req/s (p50 / p99)", rps(submits), ratio(ratio), ">= 0.35 x bare POST",
                    met(ratio >= 0.35, submits)));

            Path ids = idsFile(base, server.key(), 2_000, "status-ids");
            Map<String, String> readEnv = Map.of("GENQUEUE_KEY", server.key(), "GENQUEUE_IDS", ids.toString());
            Path status = root.resolve("bench/lua/status.lua");
            Wrk.run(base, status, CONNECTIONS, plan.warmup(), readEnv);
            Wrk.Result reads = Wrk.run(base, status, CONNECTIONS, plan.measure(), readEnv);
            double readRatio = reads.requestsPerSecond() / bareGet.requestsPerSecond();
            rows.add(new Row("2. status reads", "req/s (p50 / p99)", rps(reads), ratio(readRatio), ">= 0.6 x bare GET",
                    met(readRatio >= 0.6, reads)));
        }
    }

    /**
     * 1w: durable submits as in 1 while four workers run the jobs and each job's webhook is
     * delivered to a receiver on this machine, against the same server and load without
     * {@code ?fal_webhook=}: what deliveries cost the submits. genqueue runs in this JVM with
     * {@link CannedProvider}, so the jobs cost only the queue's own work and complete as fast as
     * it can take them: the deliveries are as many as the queue can make. Fresh servers in turn,
     * {@code pairs} pairs, without then with and with then without by turns, so drift on a shared
     * machine falls on both sides; the figure is the median pair's ratio.
     */
    private void submitsWithWebhooks() throws Exception {
        int pairs = plan.isShort() ? 1 : 5;
        step("1w. durable submits while webhooks are delivered, against without (" + pairs + " pairs)");
        try (WebhookReceiver receiver = new WebhookReceiver((id, at) -> { })) {
            double[] ratios = new double[pairs];
            double without = 0;
            double completions = 0;
            double deliveries = 0;
            Wrk.Result last = null;
            long errors = 0;
            for (int i = 0; i < pairs; i++) {
                // ABBA: every other pair runs with webhooks first, so a drift over the runs falls on both sides
                boolean offFirst = i % 2 == 0;
                WorkedSubmits off = offFirst ? workedSubmits("", receiver) : null;
                WorkedSubmits on = workedSubmits(receiver.query(), receiver);
                if (!offFirst) {
                    off = workedSubmits("", receiver);
                }
                System.out.printf(Locale.ROOT, "   without: %,.0f submits/s, %,.0f jobs done/s; with: %,.0f submits/s, %,.0f jobs done/s, "
                        + "%,.0f webhooks delivered/s%n", off.submits().requestsPerSecond(), off.completionsPerSecond(),
                        on.submits().requestsPerSecond(), on.completionsPerSecond(), on.deliveriesPerSecond());
                ratios[i] = on.submits().requestsPerSecond() / off.submits().requestsPerSecond();
                without += off.submits().requestsPerSecond() / pairs;
                completions += on.completionsPerSecond() / pairs;
                deliveries += on.deliveriesPerSecond() / pairs;
                errors += off.submits().errors() + on.submits().errors();
                last = on.submits();
            }
            Arrays.sort(ratios);
            double ratio = ratios[pairs / 2]; // the median pair: a burst of other work on the machine spoils one pair, not the figure
            rows.add(new Row("1w. durable submits, webhooks delivered", String.format(Locale.ROOT,
                    "req/s with ?fal_webhook= (p50 / p99 of the last run) while 4 workers finish %,.0f jobs/s and %,.0f webhooks "
                    + "arrive/s; without: %,.0f req/s (means of %d pairs)", completions, deliveries, without, pairs), rps(last),
                    ratio(ratio) + " of without (median pair)", ">= 0.95 x without webhooks",
                    errors > 0 ? "no (errors)" : ratio >= 0.95 ? "yes" : "no"));
        }
    }

    /** One run of scenario 1w: wrk's figures, and the jobs finished and webhooks arrived while it measured. */
    record WorkedSubmits(Wrk.Result submits, double completionsPerSecond, double deliveriesPerSecond) {
    }

    private WorkedSubmits workedSubmits(String query, WebhookReceiver receiver) throws Exception {
        Map<String, String> settings = embeddedSettings("submit-webhooks", 4);
        settings.put("GENQUEUE_FETCH_ALLOW", receiver.allow());
        settings.put("GENQUEUE_SHUTDOWN_GRACE", "0s");
        CannedProvider provider = new CannedProvider();
        try (Embedded server = Embedded.start(settings, Clock.systemUTC(), provider)) {
            String url = "http://127.0.0.1:" + server.port() + "/v1/queue/nano_banana" + query;
            Map<String, String> env = Map.of("GENQUEUE_KEY", server.firstKey());
            Path submit = root.resolve("bench/lua/submit.lua");
            Wrk.run(url, submit, CONNECTIONS, plan.warmup(), env);
            long delivered = receiver.deliveries();
            long done = provider.calls();
            long start = System.nanoTime();
            Wrk.Result submits = Wrk.run(url, submit, CONNECTIONS, plan.measure(), env);
            double seconds = (System.nanoTime() - start) / 1e9;
            return new WorkedSubmits(submits, (provider.calls() - done) / seconds, (receiver.deliveries() - delivered) / seconds);
        }
    }

    /**
     * 2p: many requests in flight, each polled twice a second at a paced rate (wrk waits before each
     * request, so the load is the clients' and not as much as the server takes), while a few paced
     * connections go on submitting. The server runs no jobs, so every polled request stays queued,
     * its {@code queue_position} moving as the submits arrive behind it.
     */
    private void polling() throws Exception {
        int inFlight = plan.isShort() ? 1_000 : 10_000;
        int rate = inFlight * 2;
        int connections = Math.max(10, Math.min(100, rate / 200));
        int pause = Math.max(1, connections * 1_000 / rate);
        step("2p. polling: " + inFlight + " requests in flight, each polled twice a second, while submits go on");
        try (Child server = Child.genqueue(jar, fresh("polls"), Map.of("GENQUEUE_WORKERS", "0"))) {
            String base = "http://127.0.0.1:" + server.port;
            Path ids = idsFile(base, server.key(), inFlight, "poll-ids");
            Map<String, String> pollEnv = Map.of("GENQUEUE_KEY", server.key(), "GENQUEUE_IDS", ids.toString(),
                    "GENQUEUE_DELAY_MS", String.valueOf(pause));
            Map<String, String> submitEnv = Map.of("GENQUEUE_KEY", server.key(), "GENQUEUE_DELAY_MS", "10");
            Path poll = root.resolve("bench/lua/poll.lua");
            Path submit = root.resolve("bench/lua/submit.lua");
            String queue = base + "/v1/queue/nano_banana";
            Wrk.run(base, poll, connections, plan.warmup(), pollEnv);
            CompletableFuture<Wrk.Result> submitting = CompletableFuture.supplyAsync(
                    () -> Wrk.run(queue, submit, 2, 4, plan.measure(), submitEnv));
            Wrk.Result polls = Wrk.run(base, poll, connections, plan.measure(), pollEnv);
            Wrk.Result submits = submitting.join();
            rows.add(new Row("2p. polling", String.format(Locale.ROOT, "status of %,d queued requests, each polled twice a second "
                    + "(%,d req/s offered, %d connections), while %,.0f submits/s (p50 / p99 %s) go on: req/s (p50 / p99)", inFlight,
                    rate, connections, submits.requestsPerSecond(), latency(submits.p50(), submits.p99())), rps(polls), "",
                    "status p99 <= 10 ms", submits.errors() > 0 ? "no (submit errors)" : met(polls.p99() <= 10, polls)));
        }
    }

    /** 5: a million queued jobs (no workers), then submits and status reads with queue_position, and memory. */
    private void scale() throws Exception {
        int jobs = plan.scaleJobs();
        step("5. scale: " + jobs + " queued jobs");
        try (Child server = Child.genqueue(jar, fresh("scale"), Map.of("GENQUEUE_WORKERS", "0"))) {
            String base = "http://127.0.0.1:" + server.port;
            fill(base, server.key(), jobs);
            Path ids = idsFile(base, server.key(), 1_000, "scale-ids");
            long position = status(base, server.key(), Files.readAllLines(ids).get(0)).path("queue_position").asLong();
            System.out.printf("   a job submitted now is at queue_position %d%n", position);
            Map<String, String> env = Map.of("GENQUEUE_KEY", server.key(), "GENQUEUE_IDS", ids.toString());
            Wrk.Result reads = Wrk.run(base, root.resolve("bench/lua/status.lua"), CONNECTIONS, plan.measure(), env);
            Wrk.Result submits = Wrk.run(base + "/v1/queue/nano_banana", root.resolve("bench/lua/submit.lua"), CONNECTIONS,
                    plan.measure(), env);
            long[] memory = server.residentMemory();
            String at = String.format(Locale.ROOT, "at %,d queued", position);
            rows.add(new Row("5. scale", "submits " + at + " (p50 / p99)", rps(submits),
                    ratio(submits.requestsPerSecond() / barePost.requestsPerSecond()), "p99 <= 10 ms", met(submits.p99() <= 10, submits)));
            rows.add(new Row("5. scale", "status reads with queue_position " + at + " (p50 / p99)", rps(reads),
                    ratio(reads.requestsPerSecond() / bareGet.requestsPerSecond()), "p99 <= 10 ms", met(reads.p99() <= 10, reads)));
            rows.add(new Row("5. scale", "resident memory (peak)", String.format(Locale.ROOT, "%d MB (%d MB)", memory[0] >> 20,
                    memory[1] >> 20), "", "<= 512 MB", memory[0] <= 512L << 20 ? "yes" : "no"));
        }
    }

    /**
     * Submits with wrk until at least {@code jobs} are queued: wrk cannot stop after a count, so it
     * runs in chunks sized from the last chunk's rate, and a probe job's position says how many
     * are queued.
     */
    private void fill(String base, String key, int jobs) throws Exception {
        long start = System.nanoTime();
        Map<String, String> env = Map.of("GENQUEUE_KEY", key);
        // Size chunks as if submits were fast: a chunk too short costs one more round, one too long
        // overshoots the count by its whole excess.
        double rate = 10_000;
        long queued = 0;
        while (queued < jobs) {
            long seconds = Math.max(1, Math.min(30, (long) Math.ceil((jobs - queued) / rate)));
            Wrk.Result chunk = Wrk.run(base + "/v1/queue/nano_banana", root.resolve("bench/lua/submit.lua"), CONNECTIONS,
                    Duration.ofSeconds(seconds), env);
            rate = Math.max(10_000, chunk.requestsPerSecond());
            queued = status(base, key, submit(base, key)).path("queue_position").asLong() + 1;
            System.out.printf(Locale.ROOT, "   %,d queued (%.0f submits/s)%n", queued, chunk.requestsPerSecond());
        }
        System.out.printf(Locale.ROOT, "   filled in %.0f s%n", (System.nanoTime() - start) / 1e9);
    }

    /** 3 and 4: one job at a time on an idle queue, timed on one clock. */
    private void pickupAndOverhead() throws Exception {
        step("3. pickup latency, 4. gateway overhead");
        TimingProvider provider = new TimingProvider(new PreviewProvider(Duration.ZERO));
        Map<String, CompletableFuture<Long>> finished = new ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicLong lastCommit = new java.util.concurrent.atomic.AtomicLong();
        try (Embedded server = Embedded.start(embeddedSettings("pickup", 4), Clock.systemUTC(), provider)) {
            server.addListener(new io.genqueue.queue.JobListener() {
                @Override
                public void jobsAvailable() {
                    lastCommit.set(System.nanoTime()); // right after a submit's commit
                }

                @Override
                public void jobChanged(String id) {
                    if (provider.returned(id)) {
                        finished.computeIfAbsent(id, k -> new CompletableFuture<>()).complete(System.nanoTime());
                    }
                }
            });
            warmUp(server, provider);
            int runs = plan.pickupRuns();
            long[] pickup = new long[runs];
            long[] fromCommit = new long[runs];
            long[] overhead = new long[runs];
            try (RawClient client = new RawClient(server.port())) {
                for (int i = 0; i < runs; i++) {
                    long sent = System.nanoTime();
                    RawClient.Answer answer = client.post("/v1/queue/nano_banana", server.firstKey(), BODY);
                    String id = Json.mapper().readTree(answer.body()).get("request_id").asText();
                    TimingProvider.Call call = provider.call(id).get(30, TimeUnit.SECONDS);
                    long committed = lastCommit.get();
                    long done = finished.computeIfAbsent(id, k -> new CompletableFuture<>()).get(30, TimeUnit.SECONDS);
                    pickup[i] = call.start() - sent;
                    fromCommit[i] = call.start() - committed;
                    overhead[i] = done - sent - call.nanos();
                }
            }
            Arrays.sort(pickup);
            Arrays.sort(fromCommit);
            Arrays.sort(overhead);
            double p50 = ms(percentile(pickup, 0.50));
            double p99 = ms(percentile(pickup, 0.99));
            rows.add(new Row("3. pickup, idle queue", "submit sent to provider called, p50 / p99 (" + runs + " jobs)",
                    latency(p50, p99), "", "p50 <= 0.5 ms, p99 <= 2 ms", p50 <= 0.5 && p99 <= 2 ? "yes" : "no"));
            double c50 = ms(percentile(fromCommit, 0.50));
            double c99 = ms(percentile(fromCommit, 0.99));
            rows.add(new Row("3. pickup, idle queue", "submit committed to provider called, p50 / p99", latency(c50, c99), "",
                    "p50 <= 0.5 ms, p99 <= 2 ms", c50 <= 0.5 && c99 <= 2 ? "yes" : "no"));
            double o50 = ms(percentile(overhead, 0.50));
            double o99 = ms(percentile(overhead, 0.99));
            rows.add(new Row("4. gateway overhead", "submit sent to completed, minus provider time, p50 / p99",
                    latency(o50, o99), "", "p50 <= 2 ms, p99 <= 10 ms", o50 <= 2 && o99 <= 10 ? "yes" : "no"));
        }
    }

    /** W: a completion committed to its webhook at a local receiver, idle and under a steady rate of completions. */
    private void webhooks() throws Exception {
        int rate = 1_000;
        int idle = plan.isShort() ? 100 : 1_000;
        int loaded = plan.isShort() ? 2 * rate : 10 * rate;
        step("W. webhook delivery: " + idle + " one at a time, then " + loaded + " at " + rate + "/s");
        try (WebhookLatency w = new WebhookLatency(embeddedSettings("webhooks", 8))) {
            w.run(plan.isShort() ? 100 : 1_000, 0); // warm-up
            WebhookLatency.Result one = w.run(idle, 0);
            WebhookLatency.Result busy = w.run(loaded, rate);
            addWebhookRow("idle queue (" + one.count() + " requests)", one);
            addWebhookRow(rate + " completions/s (" + busy.count() + " requests)", busy);
        }
    }

    private void addWebhookRow(String load, WebhookLatency.Result r) {
        double p50 = ms(r.p50());
        double p99 = ms(r.p99());
        rows.add(new Row("W. webhooks", "completion committed to the receiver's first byte, p50 / p99, " + load,
                latency(p50, p99), "", "p50 <= 5 ms, p99 <= 20 ms", p50 <= 5 && p99 <= 20 ? "yes" : "no"));
    }

    /** Runs jobs through the whole path until the JIT has compiled it, as the wrk warm-ups do for the other scenarios. */
    private void warmUp(Embedded server, TimingProvider provider) throws Exception {
        int jobs = plan.isShort() ? 300 : 3_000;
        try (RawClient client = new RawClient(server.port())) {
            String last = null;
            for (int i = 0; i < jobs; i++) {
                RawClient.Answer answer = client.post("/v1/queue/nano_banana", server.firstKey(),
                        "{\"prompt\":\"warm-up\",\"aspect_ratio\":\"21:9\",\"output_format\":\"jpeg\"}");
                last = Json.mapper().readTree(answer.body()).get("request_id").asText();
                client.get("/v1/queue/nano_banana/requests/" + last + "/status", server.firstKey());
            }
            provider.call(last).get(120, TimeUnit.SECONDS);
        }
    }

    /** 6: a slow provider, many slots, steady submits faster than the slots drain: how busy are the slots? */
    private void slotUse() throws Exception {
        int slots = plan.slots();
        Duration latency = plan.slowProvider();
        double capacity = slots / (latency.toMillis() / 1000.0);
        double rate = capacity * 1.25; // always a queue, so an idle slot is the gateway's fault
        step(String.format(Locale.ROOT, "6. slot use: %d slots, provider %d ms, %.0f submits/s for %d s", slots, latency.toMillis(),
                rate, plan.slotRun().toSeconds()));
        TimingProvider provider = new TimingProvider(new PreviewProvider(latency));
        Map<String, String> settings = embeddedSettings("slots", slots);
        settings.put("GENQUEUE_SHUTDOWN_GRACE", "0s");
        try (Embedded server = Embedded.start(settings, Clock.systemUTC(), provider);
                ExecutorService submitters = Executors.newVirtualThreadPerTaskExecutor()) {
            String base = "http://127.0.0.1:" + server.port();
            long start = System.nanoTime();
            long runNanos = plan.slotRun().toNanos();
            long intervalNanos = (long) (1e9 / rate);
            // Measure once every slot could be busy (the first jobs need time to arrive).
            long windowStart = start + Math.max((long) (slots / rate * 1e9), runNanos / 6);
            java.util.concurrent.atomic.AtomicLong accepted = new java.util.concurrent.atomic.AtomicLong();
            long minWaiting = Long.MAX_VALUE;
            for (long next = start; next - start < runNanos; next += intervalNanos) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                submitters.submit(() -> {
                    submit(base, server.firstKey());
                    accepted.incrementAndGet();
                });
                if (System.nanoTime() > windowStart) {
                    // accepted counts answers, calls count starts: a job may start before its answer arrives
                    minWaiting = Math.min(minWaiting, Math.max(0, accepted.get() - provider.calls().size()));
                }
            }
            long end = System.nanoTime();
            System.out.printf(Locale.ROOT, "   %d accepted, %d started; fewest waiting in the window: %d%s%n", accepted.get(),
                    provider.calls().size(), minWaiting, minWaiting <= 0 ? " (the queue ran dry: submits were too slow)" : "");
            for (CompletableFuture<TimingProvider.Call> call : provider.calls().values()) {
                try {
                    call.get(latency.toMillis() * 3 + 10_000, TimeUnit.MILLISECONDS);
                } catch (Exception stillRunning) {
                    // started after the window closed; it cannot count
                }
            }
            long busy = 0;
            for (CompletableFuture<TimingProvider.Call> f : provider.calls().values()) {
                if (f.isDone() && !f.isCompletedExceptionally()) {
                    TimingProvider.Call c = f.join();
                    busy += Math.max(0, Math.min(c.end(), end) - Math.max(c.start(), windowStart));
                }
            }
            double use = busy / ((double) slots * (end - windowStart));
            rows.add(new Row("6. slot use", String.format(Locale.ROOT, "slot time spent on jobs (%d slots, %d ms provider)", slots,
                    latency.toMillis()), String.format(Locale.ROOT, "%.2f %%", use * 100), "", ">= 98 %", use >= 0.98 ? "yes" : "no"));
        }
    }


    /**
     * P1: durable submits through three {@code serve} processes (role api, no workers, so the queue
     * only grows) on one fresh PostgreSQL schema. One wrk with three threads, each thread's
     * connections on one process's port (bench/lua/submit.lua, GENQUEUE_PORTS): one load generator
     * instead of three keeps the CPU it takes from the servers the same as in scenario 1, and its
     * single histogram gives true percentiles over all requests, which three wrk reports could not.
     */
    private void postgresSubmits() throws Exception {
        int threads = 3;
        int connections = CONNECTIONS / threads * threads; // wrk drops the remainder: 63
        step("P1. durable submits on PostgreSQL, three processes");
        try (TestSchemas schemas = new TestSchemas()) {
            String store = schemas.newSchemaUrl();
            Map<String, String> env = Map.of("GENQUEUE_STORE", store, "GENQUEUE_ROLE", "api", "GENQUEUE_WORKERS", "0");
            List<Child> servers = new ArrayList<>();
            try {
                Path data = fresh("pg-submits"); // shared by the processes, as on one host (images only; none are made)
                servers.add(Child.genqueue(jar, data, env)); // the first makes the API key the others then find
                List<CompletableFuture<Child>> others = new ArrayList<>();
                for (int i = 1; i < threads; i++) {
                    others.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return Child.genqueue(jar, data, env);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }));
                }
                RuntimeException failed = null;
                for (CompletableFuture<Child> other : others) {
                    try {
                        servers.add(other.join());
                    } catch (RuntimeException e) {
                        failed = e;
                    }
                }
                if (failed != null) {
                    throw failed;
                }
                String ports = String.join(",", servers.stream().map(c -> String.valueOf(c.port)).toList());
                Map<String, String> wrkEnv = Map.of("GENQUEUE_KEY", servers.get(0).key(), "GENQUEUE_PORTS", ports);
                String url = "http://127.0.0.1:" + servers.get(0).port + "/v1/queue/nano_banana";
                Path submit = root.resolve("bench/lua/submit.lua");
                // A fresh table has no statistics until autovacuum's first visit (up to a minute), and
                // without them the planner serves the start-deadline sweep (every process, 4 times a
                // second) from the wrong index, scanning the whole queue: analyse after a first
                // stretch, as autovacuum does early in a running deployment, and again before measuring.
                String jobs = TestSchemas.schemaOf(store) + ".jobs";
                Wrk.run(url, submit, threads, connections, plan.warmup(), wrkEnv);
                TestSchemas.execute("ANALYZE " + jobs);
                // Three JVMs to warm instead of one, sharing two cores with PostgreSQL and wrk: measured
                // in 5 s windows from a cold start, the rate rose for about 40 s (JIT compilation) and
                // then held.
                Wrk.run(url, submit, threads, connections, plan.warmup().multipliedBy(8), wrkEnv);
                TestSchemas.execute("ANALYZE " + jobs);
                Wrk.Result submits = Wrk.run(url, submit, threads, connections, plan.measure(), wrkEnv);
                double ratio = submits.requestsPerSecond() / barePost.requestsPerSecond();
                rows.add(new Row("P1. durable submits, PostgreSQL, 3 processes",
                        "req/s, one wrk, " + connections / threads + " connections per process (p50 / p99)", rps(submits), ratio(ratio),
                        ">= 14,000 req/s (10 x graphile-worker)", met(submits.requestsPerSecond() >= 14_000, submits)));
            } finally {
                servers.forEach(Child::close); // before the schema is dropped
            }
        }
    }

    /**
     * P3: status reads on three PostgreSQL processes: one ({@code all}) takes the submits and runs
     * the jobs with the preview provider, two ({@code api}) only answer. Once every job is
     * finished, each process is read in turn by the same wrk load; the figure is how the processes
     * that did not take the submits compare with the one that did. Alternating A, B, C, A, B, C so a
     * drift of the shared machine falls on all three.
     */
    private void postgresStatusReads() throws Exception {
        int jobs = plan.isShort() ? 300 : 2_000;
        step("P3. status reads on PostgreSQL, three processes (the one that took the submits, two others)");
        try (TestSchemas schemas = new TestSchemas()) {
            String store = schemas.newSchemaUrl();
            Path data = fresh("pg-status");
            List<Child> servers = new ArrayList<>();
            try {
                servers.add(Child.genqueue(jar, data, Map.of("GENQUEUE_STORE", store, "GENQUEUE_ROLE", "all", "GENQUEUE_WORKERS", "8")));
                for (int i = 0; i < 2; i++) {
                    servers.add(Child.genqueue(jar, data, Map.of("GENQUEUE_STORE", store, "GENQUEUE_ROLE", "api", "GENQUEUE_WORKERS", "0")));
                }
                String key = servers.get(0).key();
                String first = "http://127.0.0.1:" + servers.get(0).port;
                Path ids = idsFile(first, key, jobs, "pg-status-ids");
                for (String id : Files.readAllLines(ids)) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (!status(first, key, id).path("status").asText().equals("COMPLETED")) {
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("request " + id + " did not complete within 60 s");
                        }
                        pause(20);
                    }
                }
                TestSchemas.execute("ANALYZE " + TestSchemas.schemaOf(store) + ".jobs");
                Map<String, String> env = Map.of("GENQUEUE_KEY", key, "GENQUEUE_IDS", ids.toString());
                Path status = root.resolve("bench/lua/status.lua");
                double[] rps = new double[3];
                Wrk.Result[] last = new Wrk.Result[3];
                int rounds = plan.isShort() ? 1 : 2;
                for (int round = 0; round < rounds; round++) {
                    for (int i = 0; i < 3; i++) {
                        String base = "http://127.0.0.1:" + servers.get(i).port;
                        Wrk.run(base, status, CONNECTIONS, plan.warmup(), env);
                        last[i] = Wrk.run(base, status, CONNECTIONS, plan.measure(), env);
                        rps[i] += last[i].requestsPerSecond() / rounds;
                    }
                }
                double others = (rps[1] + rps[2]) / 2 / rps[0];
                rows.add(new Row("P3. status reads, PostgreSQL, 3 processes", String.format(Locale.ROOT,
                        "req/s of finished requests on the process that took the submits (p50 / p99 of its last run); the other two: "
                        + "%,.0f and %,.0f req/s (means of %d runs)", rps[1], rps[2], rounds), rps(last[0]),
                        ratio(rps[0] / bareGet.requestsPerSecond()) + "; others " + ratio(others) + " x the first",
                        "others >= 0.8 x the first", last[1].errors() + last[2].errors() + last[0].errors() > 0 ? "no (errors)"
                                : others >= 0.8 ? "yes" : "no"));
            } finally {
                servers.forEach(Child::close);
            }
        }
    }

    /**
     * P2: one job at a time on an idle queue, submitted through an API process and run by one of
     * two worker processes, all three on one fresh PostgreSQL schema. The three are {@link Embedded}
     * instances in this JVM, each with its own store (connection pool, LISTEN connection, submit
     * writer) and its own lease owner, so everything between the API's commit and a worker's
     * claim goes through PostgreSQL (NOTIFY, LISTEN, a SKIP LOCKED claim) as between processes on
     * different hosts; sharing this JVM gives the client's send and the provider's call one clock.
     */
    private void postgresPickup() throws Exception {
        step("P2. pickup latency on PostgreSQL, three processes (one API, two workers)");
        TimingProvider provider = new TimingProvider(new PreviewProvider(Duration.ZERO));
        Map<String, CompletableFuture<Long>> finished = new ConcurrentHashMap<>();
        // The first event after each send (0 = none yet): the API's commit, a worker hearing of it.
        // A poll tick (every second) landing in the few milliseconds between is counted instead, rarely.
        java.util.concurrent.atomic.AtomicLong committed = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong heard = new java.util.concurrent.atomic.AtomicLong();
        io.genqueue.queue.JobListener workerListener = new io.genqueue.queue.JobListener() {
            @Override
            public void jobsAvailable() {
                heard.compareAndSet(0, System.nanoTime());
            }

            @Override
            public void jobChanged(String id) {
                if (provider.returned(id)) {
                    finished.computeIfAbsent(id, k -> new CompletableFuture<>()).complete(System.nanoTime());
                }
            }
        };
        try (TestSchemas schemas = new TestSchemas()) {
            String url = schemas.newSchemaUrl();
            Path data = fresh("pg-pickup");
            try (Embedded api = Embedded.start(postgresSettings(url, data, "api", 0), Clock.systemUTC(), provider);
                    Embedded worker1 = Embedded.start(postgresSettings(url, data, "worker", 4), Clock.systemUTC(), provider);
                    Embedded worker2 = Embedded.start(postgresSettings(url, data, "worker", 4), Clock.systemUTC(), provider)) {
                api.addListener(new io.genqueue.queue.JobListener() {
                    @Override
                    public void jobsAvailable() {
                        committed.compareAndSet(0, System.nanoTime()); // right after a submit's group commit
                    }
                });
                worker1.addListener(workerListener);
                worker2.addListener(workerListener);
                warmUp(api, provider);
                for (CompletableFuture<TimingProvider.Call> call : provider.calls().values()) {
                    call.get(120, TimeUnit.SECONDS); // the queue is idle again
                }
                int runs = plan.pickupRuns();
                long[] pickup = new long[runs];
                long[] fromCommit = new long[runs];
                long[] toHeard = new long[runs];
                long[] heardToCall = new long[runs];
                int unseen = 0;
                try (RawClient client = new RawClient(api.port())) {
                    for (int i = 0; i < runs; i++) {
                        committed.set(0);
                        heard.set(0);
                        long sent = System.nanoTime();
                        RawClient.Answer answer = client.post("/v1/queue/nano_banana", api.firstKey(), BODY);
                        String id = Json.mapper().readTree(answer.body()).get("request_id").asText();
                        TimingProvider.Call call = provider.call(id).get(30, TimeUnit.SECONDS);
                        try {
                            finished.computeIfAbsent(id, k -> new CompletableFuture<>()).get(10, TimeUnit.SECONDS);
                        } catch (java.util.concurrent.TimeoutException e) {
                            // The outcome's commit was not seen (a lease renewal racing the finish can
                            // interrupt it): the pickup was measured; the next job still finds an idle queue.
                            unseen++;
                        }
                        pickup[i] = call.start() - sent;
                        fromCommit[i] = call.start() - committed.get();
                        toHeard[i] = heard.get() - committed.get();
                        heardToCall[i] = call.start() - heard.get();
                    }
                }
                if (unseen > 0) {
                    System.out.printf("   %d of %d jobs: their outcome's commit was not seen within 10 s%n", unseen, runs);
                }
                Arrays.sort(pickup);
                Arrays.sort(fromCommit);
                Arrays.sort(toHeard);
                Arrays.sort(heardToCall);
                System.out.printf(Locale.ROOT, "   API commit to a worker hearing of it (NOTIFY), p50 / p99: %s; heard to provider called "
                        + "(claim): %s%n", latency(ms(percentile(toHeard, 0.50)), ms(percentile(toHeard, 0.99))),
                        latency(ms(percentile(heardToCall, 0.50)), ms(percentile(heardToCall, 0.99))));
                double p50 = ms(percentile(pickup, 0.50));
                double p99 = ms(percentile(pickup, 0.99));
                rows.add(new Row("P2. pickup, PostgreSQL, 3 processes", "submit sent (API process) to provider called (a worker "
                        + "process), p50 / p99 (" + runs + " jobs)", latency(p50, p99), "", "p50 <= 5 ms (graphile-worker 4.16 ms avg)",
                        p50 <= 5 ? "yes" : "no"));
                double c50 = ms(percentile(fromCommit, 0.50));
                double c99 = ms(percentile(fromCommit, 0.99));
                rows.add(new Row("P2. pickup, PostgreSQL, 3 processes", "submit committed (API process) to provider called, p50 / p99",
                        latency(c50, c99), "", "", ""));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private Map<String, String> postgresSettings(String storeUrl, Path dataDir, String role, int workers) {
        return Map.of("GENQUEUE_PORT", "0", "GENQUEUE_HOST", "127.0.0.1", "GENQUEUE_DATA_DIR", dataDir.toString(),
                "GENQUEUE_WORKERS", String.valueOf(workers), "GENQUEUE_LOG_LEVEL", "warn", "GENQUEUE_STORE", storeUrl,
                "GENQUEUE_ROLE", role);
    }

    private Map<String, String> embeddedSettings(String name, int workers) throws IOException {
        return new java.util.HashMap<>(Map.of("GENQUEUE_PORT", "0", "GENQUEUE_HOST", "127.0.0.1",
                "GENQUEUE_DATA_DIR", fresh(name).toString(), "GENQUEUE_WORKERS", String.valueOf(workers),
                "GENQUEUE_LOG_LEVEL", "warn"));
    }

    private Path fresh(String name) throws IOException {
        Path dir = root.resolve("target/bench/" + name);
        if (Files.exists(dir)) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return Files.createDirectories(dir);
    }

    private String submit(String base, String key) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/queue/nano_banana"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("submit answered " + r.statusCode() + ": " + r.body());
            }
            return Json.mapper().readTree(r.body()).get("request_id").asText();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private com.fasterxml.jackson.databind.JsonNode status(String base, String key, String id) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/v1/queue/nano_banana/requests/" + id + "/status"))
                .header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofString());
        return Json.mapper().readTree(r.body());
    }

    /** Submits {@code n} jobs from a few threads and writes their ids, one per line. */
    private Path idsFile(String base, String key, int n, String name) throws Exception {
        List<String> ids;
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<java.util.concurrent.Future<String>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> submit(base, key)));
            }
            ids = new ArrayList<>();
            for (var f : futures) {
                ids.add(f.get());
            }
        }
        Path file = root.resolve("target/bench/" + name + ".txt");
        Files.write(file, ids, StandardCharsets.UTF_8);
        return file;
    }

    private String table() {
        StringBuilder sb = new StringBuilder("| scenario | figure | measured | ratio to bare | target | met |\n|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(String.join(" | ", r.scenario(), r.figure(), r.measured(), r.ratio(), r.target(), r.met()))
                    .append(" |\n");
        }
        return sb.toString();
    }

    private static String rps(Wrk.Result r) {
        return String.format(Locale.ROOT, "%,.0f (%s)%s", r.requestsPerSecond(), latency(r.p50(), r.p99()),
                r.errors() > 0 ? ", " + r.errors() + " errors" : "");
    }

    private static String latency(double p50, double p99) {
        return String.format(Locale.ROOT, "%.2f / %.2f ms", p50, p99);
    }

    private static String ratio(double r) {
        return String.format(Locale.ROOT, "%.2f", r);
    }

    private static String met(boolean met, Wrk.Result r) {
        return r.errors() > 0 ? "no (errors)" : met ? "yes" : "no";
    }

    static long percentile(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static void step(String what) {
        System.out.println("== " + what);
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
