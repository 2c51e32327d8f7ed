package io.genqueue.fetch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;

/** A well-behaved HTTP (or https) server on 127.0.0.1 (the JDK's), with handlers per path and a log of requests. */
final class TestHttpServer implements AutoCloseable {

    /** What a request looked like when it arrived. */
    record Request(String path, String host, String userAgent, String accept, String acceptEncoding, String connection) {
    }

    final List<Request> requests = new CopyOnWriteArrayList<>();

    private final HttpServer server;
    private final String scheme;
    private final ExecutorService executor = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory());

    TestHttpServer() throws IOException {
        this(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0), "http");
    }

    private TestHttpServer(HttpServer server, String scheme) {
        this.server = server;
        this.scheme = scheme;
        server.setExecutor(executor);
        server.start();
    }

    /** An https server presenting {@code tls}'s certificate. */
    static TestHttpServer https(SSLContext tls) throws IOException {
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        return new TestHttpServer(server, "https");
    }

    /** Serves {@code handler} at {@code path} (and below), recording each request. */
    TestHttpServer on(String path, HttpHandler handler) {
        server.createContext(path, exchange -> {
            var headers = exchange.getRequestHeaders();
            requests.add(new Request(exchange.getRequestURI().toString(), headers.getFirst("Host"),
                    headers.getFirst("User-Agent"), headers.getFirst("Accept"),
                    headers.getFirst("Accept-Encoding"), headers.getFirst("Connection")));
            try (exchange) {
                handler.handle(exchange);
            }
        });
        return this;
    }

    static HttpHandler bytes(int status, String contentType, byte[] body) {
        return exchange -> {
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
        };
    }

    /** Sends {@code body} with chunked transfer encoding, in pieces of {@code chunkSize}. */
    static HttpHandler chunked(byte[] body, int chunkSize) {
        return exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "image/png");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            for (int i = 0; i < body.length; i += chunkSize) {
                out.write(body, i, Math.min(chunkSize, body.length - i));
                out.flush();
            }
        };
    }

    static HttpHandler redirect(int status, String location) {
        return exchange -> redirect(exchange, status, location);
    }

    static void redirect(HttpExchange exchange, int status, String location) throws IOException {
        exchange.getResponseHeaders().set("Location", location);
        exchange.sendResponseHeaders(status, -1);
    }

    int port() {
        return server.getAddress().getPort();
    }

    String url(String path) {
        return scheme + "://127.0.0.1:" + port() + path;
    }

    String allowEntry() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
