package io.genqueue.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * A webhook receiver on a real socket (127.0.0.1, port 0): records every POST it gets and answers
 * from a script, one entry per delivery, then 200 for the rest. Script entries: a status, or
 * {@link #STALL} (say nothing until the test ends), or {@link #REDIRECT} (302 to another path).
 */
final class WebhookReceiver implements AutoCloseable {

    static final int STALL = -1;
    static final int REDIRECT = -2;

    /** One delivery as it arrived: the path and query, the headers (lower-case names), the body. */
    record Delivery(String target, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final HttpServer server;
    private final Deque<Integer> script = new ArrayDeque<>();
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private final CountDownLatch released = new CountDownLatch(1);

    private WebhookReceiver(HttpServer server) {
        this.server = server;
    }

    static WebhookReceiver start(Integer... answers) {
        return onPort(0, answers);
    }

    /** A receiver on {@code port} (0 for any), answering {@code answers} first. */
    static WebhookReceiver onPort(int port, Integer... answers) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            WebhookReceiver receiver = new WebhookReceiver(server);
            receiver.script.addAll(List.of(answers));
            server.createContext("/", receiver::handle);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.start();
            return receiver;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Map<String, String> headers = new TreeMap<>();
            exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), values.get(0)));
            String target = exchange.getRequestURI().toString();
            deliveries.add(new Delivery(target, headers, body));
            int answer;
            synchronized (script) {
                answer = script.isEmpty() ? 200 : script.poll();
            }
            if (answer == STALL) {
                released.await();
                return;
            }
            if (answer == REDIRECT) {
                exchange.getResponseHeaders().add("Location", url("/elsewhere"));
                exchange.sendResponseHeaders(302, -1);
                return;
            }
            exchange.sendResponseHeaders(answer, -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The receiver's URL for {@code pathAndQuery}. */
    String url(String pathAndQuery) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + pathAndQuery;
    }

    /** {@code host:port}, for the allow-list. */
    String hostPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** What arrived so far; each body and its headers checked against the OpenAPI document's webhook. */
    List<Delivery> deliveries() {
        List<Delivery> all = List.copyOf(deliveries);
        for (Delivery d : all) {
            DocumentedApi.get().checkWebhook(d.headers(), new String(d.body(), java.nio.charset.StandardCharsets.UTF_8));
        }
        return all;
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
    }
}
