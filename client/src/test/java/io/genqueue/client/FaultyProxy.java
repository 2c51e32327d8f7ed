package io.genqueue.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 proxy in front of a server that fails as a test tells it to: for each request (by
 * its request line and its number, from 0) a {@link Rule} picks an {@link Action}. One request per
 * client connection; each goes to the server on a connection of its own ({@code Connection: close}).
 */
final class FaultyProxy implements AutoCloseable {

    enum Kind {
        /** Relay the request and stream the answer back. */
        FORWARD,
        /** Relay the request, read the server's whole answer, and close the client's socket without it. */
        DROP_ANSWER,
        /** Close the client's socket without relaying anything. */
        REFUSE,
        /** Answer with the given raw response, the server untouched. */
        ANSWER
    }

    record Action(Kind kind, String response) {
        static final Action FORWARD = new Action(Kind.FORWARD, null);
        static final Action DROP_ANSWER = new Action(Kind.DROP_ANSWER, null);
        static final Action REFUSE = new Action(Kind.REFUSE, null);

        static Action answer(int status, String headers, String body) {
            return new Action(Kind.ANSWER, "HTTP/1.1 " + status + " X\r\n" + headers + "Content-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + body);
        }
    }

    interface Rule {
        Action decide(String requestLine, int number);
    }

    private final ServerSocket socket;
    private final int upstreamPort;
    private final Rule rule;
    private final AtomicInteger count = new AtomicInteger();
    /** The request lines seen, in order. */
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** The answers the server gave that the client never got. */
    final List<String> dropped = new CopyOnWriteArrayList<>();

    private FaultyProxy(int upstreamPort, Rule rule) throws IOException {
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.upstreamPort = upstreamPort;
        this.rule = rule;
        Thread.ofVirtual().name("faulty-proxy").start(this::accept);
    }

    static FaultyProxy inFrontOf(String base, Rule rule) {
        try {
            return new FaultyProxy(java.net.URI.create(base).getPort(), rule);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String base() {
        return "http://127.0.0.1:" + socket.getLocalPort();
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Thread.ofVirtual().start(() -> serve(client));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            String head = readHead(in);
            if (head == null) {
                return;
            }
            byte[] body = in.readNBytes(contentLength(head));
            String requestLine = head.substring(0, head.indexOf("\r\n"));
            requests.add(requestLine);
            Action action = rule.decide(requestLine, count.getAndIncrement());
            switch (action.kind()) {
                case REFUSE -> { }
                case ANSWER -> client.getOutputStream().write(action.response().getBytes(StandardCharsets.UTF_8));
                case FORWARD, DROP_ANSWER -> {
                    try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
                        OutputStream up = upstream.getOutputStream();
                        up.write(withConnectionClose(head).getBytes(StandardCharsets.ISO_8859_1));
                        up.write(body);
                        up.flush();
                        // an answer with a length is read by it (the server need not close its side
                        // first); one without (the status stream) is relayed until the server ends it
                        InputStream answer = upstream.getInputStream();
                        String answerHead = readHead(answer);
                        if (answerHead == null) {
                            return;
                        }
                        boolean sized = answerHead.toLowerCase(Locale.ROOT).contains("\r\ncontent-length:");
                        if (action.kind() == Kind.DROP_ANSWER) {
                            dropped.add(answerHead + new String(answer.readNBytes(contentLength(answerHead)), StandardCharsets.UTF_8));
                        } else {
                            OutputStream out = client.getOutputStream();
                            out.write(answerHead.getBytes(StandardCharsets.ISO_8859_1));
                            if (sized) {
                                out.write(answer.readNBytes(contentLength(answerHead)));
                            } else {
                                answer.transferTo(out);
                            }
                            out.flush();
                        }
                    }
                }
            }
        } catch (IOException e) {
            // a side hung up: the test looks at what the client saw
        }
    }

    /** The request head up to its blank line, or null at end of stream. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            int n = head.size();
            byte[] h = head.toByteArray();
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring(15).strip());
            }
        }
        return 0;
    }

    private static String withConnectionClose(String head) {
        StringBuilder out = new StringBuilder();
        for (String line : head.split("\r\n")) {
            if (!line.toLowerCase(Locale.ROOT).startsWith("connection:") && !line.isEmpty()) {
                out.append(line).append("\r\n");
            }
        }
        return out.append("Connection: close\r\n\r\n").toString();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
