package io.genqueue.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * A webhook receiver on this machine's loopback: reads each delivery, answers 204 at once, counts
 * it, and tells {@code onArrival} the request id and when the handler was called (the request head
 * read), so the scenarios time deliveries on the harness's own clock.
 */
final class WebhookReceiver implements AutoCloseable {

    private final HttpServer server;
    private final AtomicLong deliveries = new AtomicLong();

    WebhookReceiver(BiConsumer<String, Long> onArrival) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        server.createContext("/hook", exchange -> {
            long at = System.nanoTime();
            String id = exchange.getRequestHeaders().getFirst("X-Fal-Webhook-Request-Id");
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
            deliveries.incrementAndGet();
            if (id != null) {
                onArrival.accept(id, at);
            }
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    /** The value for {@code GENQUEUE_FETCH_ALLOW} that lets genqueue deliver here. */
    String allow() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** {@code ?fal_webhook=} with this receiver's address, encoded for a query string. */
    String query() {
        return "?fal_webhook=" + URLEncoder.encode("http://" + allow() + "/hook", StandardCharsets.UTF_8);
    }

    long deliveries() {
        return deliveries.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
