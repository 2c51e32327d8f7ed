package io.genqueue.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A webhook receiver for the process tests, in the test process on 127.0.0.1 (port 0): counts the
 * deliveries of each request id ({@code X-Fal-Webhook-Request-Id}, counted when its body has
 * arrived, before the answer), checks that the body's {@code request_id} is the header's and that
 * the request succeeded (or, made with {@link #anyOutcome}, records which outcome it reports), and answers 200 after a random hold of up to {@link #hold} milliseconds
 * (so that deliveries are in flight when a sender dies). Each exchange runs on its own virtual
 * thread: held answers do not delay the others.
 */
final class WebhookCounter implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, String> outcomes = new ConcurrentHashMap<>();
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long minHoldMillis;
    private volatile long maxHoldMillis;
    private volatile boolean successesOnly = true;

    private WebhookCounter(HttpServer server) {
        this.server = server;
    }

    /**
     * From now on accepts deliveries of failed and cancelled requests too ({@code "status":"ERROR"}),
     * recording each request's reported outcome for {@link #outcome}, instead of counting them as problems.
     */
    WebhookCounter anyOutcome() {
        successesOnly = false;
        return this;
    }

    /** A receiver holding each answer between {@code minHoldMillis} and {@code maxHoldMillis} (uniformly). */
    static WebhookCounter start(long minHoldMillis, long maxHoldMillis) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
            WebhookCounter counter = new WebhookCounter(server);
            counter.hold(minHoldMillis, maxHoldMillis);
            server.createContext("/", counter::handle);
            server.setExecutor(counter.executor);
            server.start();
            return counter;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Changes the hold of the answers from now on. */
    void hold(long minMillis, long maxMillis) {
        this.minHoldMillis = minMillis;
        this.maxHoldMillis = maxMillis;
    }

    private void handle(HttpExchange exchange) throws IOException {
        inFlight.incrementAndGet();
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String id = exchange.getRequestHeaders().getFirst("X-Fal-Webhook-Request-Id");
            received.incrementAndGet();
            if (id == null) {
                problems.add("a delivery without X-Fal-Webhook-Request-Id: " + new String(body, StandardCharsets.UTF_8));
            } else {
                counts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                check(id, body);
            }
            long min = minHoldMillis;
            long max = maxHoldMillis;
            long hold = max > min ? ThreadLocalRandom.current().nextLong(min, max + 1) : min;
            if (hold > 0) {
                Thread.sleep(hold); // the receiver's own pace, not a wait of the test
            }
            exchange.sendResponseHeaders(200, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the sender is gone (killed mid-delivery): it was counted, the sender will not know
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void check(String id, byte[] body) {
        try {
            JsonNode json = Api.JSON.readTree(body);
            if (!id.equals(json.path("request_id").asText())) {
                problems.add(id + ": the body's request_id is " + json.path("request_id"));
            }
            String status = json.path("status").asText();
            boolean success = "OK".equals(status) && !json.path("payload").path("images").isEmpty();
            if (successesOnly ? !success : !success && !"ERROR".equals(status)) {
                problems.add(id + ": not a success with images" + (successesOnly ? "" : " nor an ERROR") + ": " + json);
            }
            outcomes.put(id, status);
        } catch (IOException e) {
            problems.add(id + ": the body is not JSON: " + new String(body, StandardCharsets.UTF_8));
        }
    }

    /** The webhook URL (a query string included, which the server must keep), URL-encoded for {@code ?fal_webhook=}. */
    String encodedUrl() {
        return URLEncoder.encode("http://" + hostPort() + "/hooks/genqueue?token=s3cret&from=it", StandardCharsets.UTF_8);
    }

    /** {@code host:port}, for {@code GENQUEUE_FETCH_ALLOW}. */
    String hostPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** Deliveries received (repeats included). */
    int received() {
        return received.get();
    }

    /** Exchanges being answered now (held). */
    int inFlight() {
        return inFlight.get();
    }

    /** Request ids delivered at least once. */
    int distinct() {
        return counts.size();
    }

    /** How many times {@code id} was delivered. */
    int count(String id) {
        AtomicInteger n = counts.get(id);
        return n == null ? 0 : n.get();
    }

    Set<String> ids() {
        return Set.copyOf(counts.keySet());
    }

    /** The {@code status} ({@code OK} or {@code ERROR}) of the last delivery of {@code id}; null when none arrived. */
    String outcome(String id) {
        return outcomes.get(id);
    }

    /** The ids delivered more than once, with their counts. */
    Map<String, Integer> repeated() {
        Map<String, Integer> out = new TreeMap<>();
        counts.forEach((id, n) -> {
            if (n.get() > 1) {
                out.put(id, n.get());
            }
        });
        return out;
    }

    /** Of {@code ids}, those never delivered. */
    List<String> missing(Collection<String> ids) {
        return ids.stream().filter(id -> !counts.containsKey(id)).toList();
    }

    List<String> problems() {
        synchronized (problems) {
            return List.copyOf(problems);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
