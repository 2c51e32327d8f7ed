package io.genqueue.bench;

import io.genqueue.app.Embedded;
import io.genqueue.json.Json;
import io.genqueue.provider.preview.PreviewProvider;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Scenario W: from a request's completion committed (the store's change event for its final
 * state) to its webhook's arrival at a receiver on this machine (the receiver's handler called,
 * the request head read), on an idle queue and with completions arriving at a steady rate.
 * genqueue runs in this JVM with the preview provider at zero delay, so completions are as fast
 * as the queue makes them; the receiver answers 204 at once.
 */
final class WebhookLatency implements AutoCloseable {

    /** p50 and p99 in nanoseconds, and how many deliveries they cover. */
    record Result(long p50, long p99, int count) {
    }

    private final WebhookReceiver receiver;
    private final Map<String, CompletableFuture<Long>> arrived = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Long>> committed = new ConcurrentHashMap<>();
    private final Embedded server;

    WebhookLatency(Map<String, String> settings) throws IOException {
        receiver = new WebhookReceiver((id, at) -> future(arrived, id).complete(at));
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.put("GENQUEUE_FETCH_ALLOW", receiver.allow());
        TimingProvider provider = new TimingProvider(new PreviewProvider(Duration.ZERO));
        server = Embedded.start(all, Clock.systemUTC(), provider);
        server.addListener(new io.genqueue.queue.JobListener() {
            @Override
            public void jobChanged(String id) {
                if (provider.returned(id)) { // the change after the provider returned: the final state committed
                    future(committed, id).complete(System.nanoTime());
                }
            }
        });
    }

    private static CompletableFuture<Long> future(Map<String, CompletableFuture<Long>> map, String id) {
        return map.computeIfAbsent(id, k -> new CompletableFuture<>());
    }

    /** Submits {@code count} requests, {@code perSecond} a second (0: one after another, each delivered before the next). */
    Result run(int count, int perSecond) throws Exception {
        String path = "/v1/queue/nano_banana" + receiver.query();
        String[] ids = new String[count];
        try (RawClient client = new RawClient(server.port())) {
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                if (perSecond > 0) {
                    long due = start + i * 1_000_000_000L / perSecond;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
                RawClient.Answer answer = client.post(path, server.firstKey(), "{\"prompt\":\"a webhook\"}");
                String id = Json.mapper().readTree(answer.body()).get("request_id").asText();
                ids[i] = id;
                if (perSecond == 0) {
                    future(arrived, id).get(30, TimeUnit.SECONDS);
                }
            }
        }
        long[] latencies = new long[count];
        for (int i = 0; i < count; i++) {
            latencies[i] = future(arrived, ids[i]).get(60, TimeUnit.SECONDS) - future(committed, ids[i]).get(60, TimeUnit.SECONDS);
        }
        Arrays.sort(latencies);
        return new Result(Harness.percentile(latencies, 0.50), Harness.percentile(latencies, 0.99), count);
    }

    @Override
    public void close() {
        server.close();
        receiver.close();
    }
}
