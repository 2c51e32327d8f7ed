package io.genqueue.emulator.gemini;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server on plain sockets, one virtual thread per connection, for an emulator
 * that must misbehave on purpose: close a connection without answering, or hold one open without
 * a word and notice when the client gives up (a JDK {@code HttpServer} can do neither). It reads
 * a request with a {@code Content-Length} or chunked body, hands it to the {@link Handler}, and
 * writes what the handler returns; connections are kept alive unless the client asks to close.
 */
final class WireServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WireServer.class);
    private static final int MAX_LINE = 16 * 1024;
    private static final int MAX_HEADERS = 200;

    /** A request as received; header names lower-cased. */
    record Request(String method, String target, Map<String, String> headers, byte[] body) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String path() {
            int q = target.indexOf('?');
            return q < 0 ? target : target.substring(0, q);
        }

        /** The raw query string, or "". */
        String query() {
            int q = target.indexOf('?');
            return q < 0 ? "" : target.substring(q + 1);
        }
    }

    /** What to do with a request. */
    sealed interface Reply permits Answer, Drop, Stall, Flood {
    }

    /** A JSON answer. */
    record Answer(int status, byte[] json) implements Reply {
    }

    /** Close the connection without a response. */
    record Drop() implements Reply {
    }

    /** Say nothing until the client closes the connection (or the server stops). */
    record Stall() implements Reply {
    }

    /**
     * A 200 whose JSON body declares {@code length} bytes and is sent until they are out or the
     * client closes the connection (which counts as giving up): for clients that must cap answers.
     */
    record Flood(long length) implements Reply {
    }

    interface Handler {
        Reply handle(Request request) throws InterruptedException;

        /** The answer to a body longer than the limit, which is not read. */
        Answer tooLarge(long length);

        /** Called when a client closed its connection while waiting for an answer. */
        void clientGaveUp();
    }

    private final ServerSocket socket;
    private final Handler handler;
    private final long maxBody;
    private final ExecutorService threads = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("gemini-emulator-", 0).factory());
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private WireServer(ServerSocket socket, Handler handler, long maxBody) {
        this.socket = socket;
        this.handler = handler;
        this.maxBody = maxBody;
    }

    static WireServer start(String host, int port, Handler handler, long maxBody) {
        try {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), port), 100);
            WireServer server = new WireServer(socket, handler, maxBody);
            server.threads.submit(server::acceptLoop);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port, e);
        }
    }

    int port() {
        return socket.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = socket.accept();
                open.add(client);
                threads.submit(() -> serve(client));
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("emulator accept failed: {}", e.toString());
                }
                return;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // closing
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            client.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(client.getInputStream());
            OutputStream out = new BufferedOutputStream(client.getOutputStream());
            while (!closed) {
                String requestLine = readLine(in);
                if (requestLine == null) {
                    return; // the client closed an idle connection
                }
                if (requestLine.isEmpty()) {
                    continue; // a stray CRLF between requests is allowed
                }
                String[] words = requestLine.split(" ");
                if (words.length != 3 || !words[2].startsWith("HTTP/1.")) {
                    write(out, new Answer(400, "{\"error\":\"bad request line\"}".getBytes(StandardCharsets.UTF_8)), false);
                    return;
                }
                Map<String, String> headers = readHeaders(in);
                boolean keepAlive = !"close".equalsIgnoreCase(headers.get("connection")) && words[2].equals("HTTP/1.1");
                String length = headers.get("content-length");
                boolean chunked = "chunked".equalsIgnoreCase(headers.getOrDefault("transfer-encoding", ""));
                long declared = length == null ? 0 : Long.parseLong(length.strip());
                if (declared < 0 || (length != null && chunked)) {
                    write(out, new Answer(400, "{\"error\":\"bad framing\"}".getBytes(StandardCharsets.UTF_8)), false);
                    return;
                }
                if (declared > maxBody) {
                    write(out, handler.tooLarge(declared), false);
                    return;
                }
                if ("100-continue".equalsIgnoreCase(headers.get("expect"))) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                byte[] body = chunked ? readChunked(in) : in.readNBytes((int) declared);
                if (body == null) {
                    write(out, handler.tooLarge(maxBody + 1), false);
                    return;
                }
                if (body.length < declared) {
                    return; // the client went away mid-body
                }
                Reply reply = handler.handle(new Request(words[0], words[1], headers, body));
                switch (reply) {
                    case Drop drop -> {
                        return;
                    }
                    case Stall stall -> {
                        awaitClose(in);
                        return;
                    }
                    case Flood flood -> {
                        flood(out, flood.length());
                        return;
                    }
                    case Answer answer -> {
                        write(out, answer, keepAlive);
                        if (!keepAlive) {
                            return;
                        }
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // a client that breaks off or sends garbage only loses its own connection
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            open.remove(client);
        }
    }

    /** Reads (and drops) whatever comes until the client closes; tells the handler if it was the client. */
    private void awaitClose(InputStream in) {
        try {
            while (in.read() >= 0) {
                // a client may send nothing more; anything it does send is not a request we answer
            }
        } catch (IOException e) {
            // reset by the client, or our own close
        }
        if (!closed) {
            handler.clientGaveUp();
        }
    }

    /** Sends the {@link Flood}: a JSON text part that never ends within {@code length} bytes. */
    private void flood(OutputStream out, long length) {
        byte[] start = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"".getBytes(StandardCharsets.US_ASCII);
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'a');
        try {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: " + length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(start);
            for (long left = length - start.length; left > 0; left -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
            out.flush();
        } catch (IOException e) {
            if (!closed) {
                handler.clientGaveUp();
            }
        }
    }

    private static void write(OutputStream out, Answer answer, boolean keepAlive) throws IOException {
        String head = "HTTP/1.1 " + answer.status() + " " + reason(answer.status()) + "\r\n"
                + "Content-Type: application/json; charset=UTF-8\r\n"
                + "Content-Length: " + answer.json().length + "\r\n"
                + (keepAlive ? "" : "Connection: close\r\n")
                + "\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(answer.json());
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 413 -> "Payload Too Large";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Status";
        };
    }

    private Map<String, String> readHeaders(InputStream in) throws IOException {
        Map<String, String> headers = new HashMap<>();
        for (int i = 0; i <= MAX_HEADERS; i++) {
            String line = readLine(in);
            if (line == null) {
                throw new IOException("connection closed in the headers");
            }
            if (line.isEmpty()) {
                return headers;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.merge(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip(),
                        (a, b) -> a + ", " + b);
            }
        }
        throw new IOException("too many headers");
    }

    /** A chunked body, or null when it grows past the limit. */
    private byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine(in);
            if (sizeLine == null) {
                throw new IOException("connection closed in a chunked body");
            }
            int semicolon = sizeLine.indexOf(';');
            int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).strip(), 16);
            if (size == 0) {
                while (true) { // trailers
                    String trailer = readLine(in);
                    if (trailer == null || trailer.isEmpty()) {
                        return body.toByteArray();
                    }
                }
            }
            if (body.size() + (long) size > maxBody) {
                return null;
            }
            byte[] chunk = in.readNBytes(size);
            if (chunk.length < size) {
                throw new IOException("connection closed in a chunk");
            }
            body.writeBytes(chunk);
            readLine(in); // the CRLF after the chunk
        }
    }

    /** One line without its CRLF, or null at the end of the stream before any byte. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
            }
            if (line.size() >= MAX_LINE) {
                throw new IOException("line too long");
            }
            line.write(b);
        }
        if (line.size() == 0) {
            return null;
        }
        throw new IOException("connection closed mid-line");
    }

    /** Stops listening, closes every connection (a stalled one included) and waits briefly for the threads. */
    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket client : open) {
            try {
                client.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
