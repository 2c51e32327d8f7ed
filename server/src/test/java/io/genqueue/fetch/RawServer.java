package io.genqueue.fetch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP server on 127.0.0.1 for servers that misbehave on purpose (stall, drip, lie about
 * lengths, close early). Each connection runs on its own daemon thread: the server reads the
 * request head, records it, then hands the socket to the handler. {@link #close()} closes every
 * open connection, which ends any handler blocked on it.
 */
final class RawServer implements AutoCloseable {

    @FunctionalInterface
    interface Handler {
        void handle(Socket socket, String requestHead) throws Exception;
    }

    final AtomicInteger connections = new AtomicInteger();
    final CountDownLatch accepted = new CountDownLatch(1);
    final CountDownLatch requestReceived = new CountDownLatch(1);
    final List<String> requests = new CopyOnWriteArrayList<>();

    private final ServerSocket serverSocket;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final boolean readRequest;
    private final boolean stallAfterHandler;

    private RawServer(Handler handler, boolean readRequest, boolean stallAfterHandler) throws IOException {
        this.readRequest = readRequest;
        this.stallAfterHandler = stallAfterHandler;
        this.serverSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("raw-server-" + port()).start(() -> acceptLoop(handler));
    }

    /** A server that reads each request head, then calls {@code handler}. */
    static RawServer start(Handler handler) throws IOException {
        return new RawServer(handler, true, false);
    }

    /** Like {@link #start}, but each connection then stays open, silent, until the server closes. */
    static RawServer startStalling(Handler handler) throws IOException {
        return new RawServer(handler, true, true);
    }

    /** A server that accepts connections and never reads or writes anything. */
    static RawServer silent() throws IOException {
        return new RawServer((socket, head) -> { }, false, true);
    }

    /** A handler that writes {@code head} (CRLF line ends added) and {@code body}, then closes. */
    static Handler answer(String head, byte[] body) {
        return (socket, request) -> {
            socket.getOutputStream().write((head.replace("\n", "\r\n") + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
        };
    }

    /** A handler that writes exactly {@code response}, then closes. */
    static Handler answerRaw(byte[] response) {
        return (socket, request) -> {
            socket.getOutputStream().write(response);
            socket.getOutputStream().flush();
        };
    }

    int port() {
        return serverSocket.getLocalPort();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    String allowEntry() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        serverSocket.close();
        for (Socket socket : open) {
            socket.close();
        }
    }

    private void acceptLoop(Handler handler) {
        while (!serverSocket.isClosed()) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                return;
            }
            open.add(socket);
            connections.incrementAndGet();
            accepted.countDown();
            Thread.ofPlatform().daemon().start(() -> serve(socket, handler));
        }
    }

    private void serve(Socket socket, Handler handler) {
        try (socket) {
            String head = "";
            if (readRequest) {
                head = readHead(socket.getInputStream());
                requests.add(head);
                requestReceived.countDown();
            }
            handler.handle(socket, head);
            if (stallAfterHandler) {
                closed.await();
            }
        } catch (Exception e) {
            // The client went away or the test closed the server: both are normal here.
        } finally {
            open.remove(socket);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the request head ended");
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
