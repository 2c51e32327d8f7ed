package io.genqueue.app;

import static io.genqueue.app.TestServer.cancelPath;
import static io.genqueue.app.TestServer.responsePath;
import static io.genqueue.app.TestServer.statusPath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Races with many threads and many jobs, through the real server. */
class ConcurrencyTest {

    /** Runs {@code task(i)} for i in [0, n) on {@code threads} threads; returns the results in order. */
    private static <T> List<T> parallel(int threads, int n, java.util.function.IntFunction<T> task) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(pool.submit(() -> task.apply(index)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get());
            }
            return results;
        }
    }

    @Test
    void thousands_of_jobs_on_many_slots_each_run_exactly_once() throws Exception {
        ScriptedProvider provider = new ScriptedProvider();
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "32", "GENQUEUE_READERS", "8"), Clock.systemUTC(),
                provider)) {
            int jobs = 3000;
            List<String> ids = parallel(16, jobs, i -> server.submitOk("{\"prompt\":\"[fast] job " + i + "\"}"));
            assertThat(ids).doesNotHaveDuplicates();
            for (String id : ids) {
                server.awaitCompleted(id);
            }
            List<Integer> images = parallel(16, jobs, i -> {
                TestServer.Response r = server.get(responsePath(ids.get(i)));
                assertThat(r.status()).isEqualTo(200);
                return r.json().get("images").size();
            });
            assertThat(images).containsOnly(1);
            assertThat(ids).allSatisfy(id -> assertThat(provider.callsFor(id)).as(id).isEqualTo(1));
            assertThat(provider.calls).hasSize(jobs);
        }
    }

    /**
     * With no workers, positions are exactly 0..n-1, normal jobs ahead of low ones and each
     * thread's jobs in its order, however many threads submit and cancel at once.
     */
    @Test
    void positions_are_exact_under_concurrent_submits_and_cancels() throws Exception {
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "0"))) {
            int threads = 16;
            int perThread = 60;
            Map<String, String[]> meta = new ConcurrentHashMap<>(); // id -> {thread, index, priority}
            parallel(threads, threads, t -> {
                for (int i = 0; i < perThread; i++) {
                    String priority = (i % 3 == 0) ? "low" : "normal";
                    TestServer.Response r = server.submit("{\"prompt\":\"t" + t + " i" + i + "\"}", "X-Fal-Queue-Priority", priority);
                    meta.put(r.json().get("request_id").asText(), new String[] {"" + t, "" + i, priority});
                }
                return null;
            });
            checkPositions(server, meta);

            List<String> all = new ArrayList<>(meta.keySet());
            Collections.shuffle(all, new java.util.Random(3));
            List<String> victims = all.subList(0, 300);
            List<Integer> answers = parallel(8, victims.size(), i -> server.put(cancelPath(victims.get(i))).status());
            assertThat(answers).containsOnly(202);
            victims.forEach(meta::remove);
            checkPositions(server, meta);
        }
    }

    private static void checkPositions(TestServer server, Map<String, String[]> meta) {
        Map<String, Long> position = new HashMap<>();
        for (String id : meta.keySet()) {
            JsonNode s = server.get(statusPath(id)).json();
            assertThat(s.get("status").asText()).isEqualTo("IN_QUEUE");
            position.put(id, s.get("queue_position").asLong());
        }
        List<Long> sorted = new ArrayList<>(position.values());
        Collections.sort(sorted);
        for (int i = 0; i < sorted.size(); i++) {
            assertThat(sorted.get(i)).as("positions form 0..n-1").isEqualTo(i);
        }
        long lastNormal = meta.entrySet().stream().filter(e -> e.getValue()[2].equals("normal"))
                .mapToLong(e -> position.get(e.getKey())).max().orElse(-1);
        long firstLow = meta.entrySet().stream().filter(e -> e.getValue()[2].equals("low"))
                .mapToLong(e -> position.get(e.getKey())).min().orElse(Long.MAX_VALUE);
        assertThat(lastNormal).isLessThan(firstLow);
        // Within one thread and one lane, a later submit is further back.
        Map<String, List<Map.Entry<String, String[]>>> byThreadLane = new HashMap<>();
        meta.entrySet().forEach(e -> byThreadLane.computeIfAbsent(e.getValue()[0] + e.getValue()[2], k -> new ArrayList<>()).add(e));
        for (List<Map.Entry<String, String[]>> group : byThreadLane.values()) {
            group.sort((a, b) -> Integer.compare(Integer.parseInt(a.getValue()[1]), Integer.parseInt(b.getValue()[1])));
            for (int i = 1; i < group.size(); i++) {
                assertThat(position.get(group.get(i).getKey())).isGreaterThan(position.get(group.get(i - 1).getKey()));
            }
        }
    }

    /**
     * Cancels fired at jobs while they are being claimed, run and finished: every job ends in
     * exactly one terminal state, its answer agrees with that state and never changes, and no job
     * runs twice.
     */
    @Test
    void cancel_racing_start_and_finish_leaves_exactly_one_outcome() throws Exception {
        ScriptedProvider provider = new ScriptedProvider();
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "8"), Clock.systemUTC(), provider)) {
            int jobs = 600;
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            Map<String, Integer> cancelAnswer = new ConcurrentHashMap<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
                List<Future<?>> work = new ArrayList<>();
                for (int i = 0; i < jobs; i++) {
                    int n = i;
                    work.add(pool.submit(() -> {
                        String id = server.submitOk("{\"prompt\":\"[fast] race " + n + "\"}");
                        ids.add(id);
                        if (n % 4 != 3) { // three in four get a cancel, at once or a little later
                            for (int spin = 0; spin < (n % 4) * 200; spin++) {
                                Thread.onSpinWait();
                            }
                            cancelAnswer.put(id, server.put(cancelPath(id)).status());
                        }
                    }));
                }
                for (Future<?> f : work) {
                    f.get();
                }
            }
            int cancelled = 0;
            int succeeded = 0;
            for (String id : ids) {
                JsonNode status = server.awaitCompleted(id);
                int answer = server.get(responsePath(id)).status();
                assertThat(answer).isIn(200, 499);
                assertThat(server.get(responsePath(id)).status()).as("the outcome never changes").isEqualTo(answer);
                assertThat(provider.callsFor(id)).as("runs of %s", id).isLessThanOrEqualTo(1);
                if (answer == 499) {
                    cancelled++;
                    assertThat(status.get("error_type").asText()).isEqualTo("cancelled");
                    assertThat(cancelAnswer.get(id)).isEqualTo(202);
                } else {
                    succeeded++;
                    assertThat(status.has("error")).isFalse();
                    assertThat(provider.callsFor(id)).isEqualTo(1);
                    assertThat(cancelAnswer.get(id)).isIn(null, 202, 400);
                }
            }
            assertThat(cancelled + succeeded).isEqualTo(jobs);
            System.out.printf("cancel race: %d cancelled, %d succeeded%n", cancelled, succeeded);
        }
    }

    @Test
    void a_long_queue_drains_with_positions_that_never_grow() throws Exception {
        ScriptedProvider provider = new ScriptedProvider();
        try (TestServer server = TestServer.start(Map.of("GENQUEUE_WORKERS", "2"), Clock.systemUTC(), provider)) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                ids.add(server.submitOk("{\"prompt\":\"[fast] q" + i + "\"}"));
            }
            String watched = ids.get(ids.size() - 1);
            long last = Long.MAX_VALUE;
            while (true) {
                JsonNode s = server.get(statusPath(watched)).json();
                if (!s.get("status").asText().equals("IN_QUEUE")) {
                    break;
                }
                long position = s.get("queue_position").asLong();
                assertThat(position).isLessThanOrEqualTo(last);
                last = position;
            }
            for (String id : ids) {
                server.awaitCompleted(id);
            }
            assertThat(ids).allSatisfy(id -> assertThat(provider.callsFor(id)).isEqualTo(1));
        }
    }
}
