package io.genqueue.app;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sends bytes no well-behaved HTTP client would send, over a fresh TCP connection, and reads back
 * exactly one HTTP/1.1 response (status line, headers, then a {@code Content-Length} or chunked
 * body). It never waits for the server to close the connection (Helidon 4.5.0 keeps a connection
 * open after answering {@code Connection: close}, helidon-io/helidon#12324), and it never waits
 * longer than the given bound: a server that does not answer in time is a {@link TimedOut}. A
 * whole answer is checked against the OpenAPI document ({@link DocumentedApi#checkRaw}).
 */
final class RawHttp {

    private RawHttp() {
    }

    /** What came back. */
    sealed interface Result permits Answer, ClosedWithoutAnswer, TimedOut {
    }

    /** A complete response. Header names are lower case. */
    record Answer(int status, String statusLine, Map<String, List<String>> headers, byte[] body) implements Result {
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : values.get(0);
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return statusLine + " " + headers + " " + bodyText();
        }
    }

    /** The server closed the connection before a whole response arrived. */
    record ClosedWithoutAnswer(String received) implements Result {
    }

    /** No whole response within the bound. */
    record TimedOut(String received) implements Result {
    }

    /** Sends {@code request} to 127.0.0.1:{@code port} on a new connection and reads one response. */
    static Result send(int port, byte[] request, Duration timeout) {
        return send(port, request, timeout, false);
    }

    /**
     * As {@link #send(int, byte[], Duration)}; with {@code stopSending} the client then shuts down
     * its sending side, as a client that gives up mid-body does.
     */
    static Result send(int port, byte[] request, Duration timeout, boolean stopSending) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            // The server may answer (and stop reading) before the whole request is sent, so the
            // request is written on its own thread: a blocked write must never hold up the read.
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    out.write(request);
                    out.flush();
                    if (stopSending) {
                        socket.shutdownOutput();
                    }
                } catch (IOException ignored) {
                    // the server closed or reset the connection early; what it answered is read below
                }
            });
            try {
                Result result = new Reader(socket, deadline).response(isHead(request));
                if (result instanceof Answer answer) {
                    DocumentedApi.get().checkRaw(request, answer);
                }
                return result;
            } finally {
                socket.close(); // ends a write the server stopped reading
                writer.join(Duration.ofSeconds(5));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot connect to 127.0.0.1:" + port, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code text} with CR LF line ends, as ISO-8859-1 bytes (one byte a char, so any byte can be written as a char). */
    static byte[] crlf(String text) {
        return text.replace("\r\n", "\n").replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Concatenates byte arrays. */
    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static boolean isHead(byte[] request) {
        return request.length >= 5 && new String(request, 0, 5, StandardCharsets.ISO_8859_1).equals("HEAD ");
    }

    /** Reads one response from a socket with a deadline; keeps what it read for the report. */
    private static final class Reader {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;
        private final ByteArrayOutputStream seen = new ByteArrayOutputStream();

        Reader(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.deadline = deadline;
        }

        Result response(boolean head) {
            try {
                while (true) {
                    String statusLine = line();
                    if (statusLine == null) {
                        return new ClosedWithoutAnswer(seenText());
                    }
                    String[] parts = statusLine.split(" ", 3);
                    if (parts.length < 2 || !parts[0].startsWith("HTTP/") || !parts[1].matches("\\d{3}")) {
                        throw new IllegalStateException("not an HTTP status line: " + statusLine);
                    }
                    int status = Integer.parseInt(parts[1]);
                    Map<String, List<String>> headers = headers();
                    if (headers == null) {
                        return new ClosedWithoutAnswer(seenText());
                    }
                    if (status >= 100 && status < 200) {
                        continue; // 100 Continue and friends: the real answer follows
                    }
                    byte[] body = body(status, head, headers);
                    if (body == null) {
                        return new ClosedWithoutAnswer(seenText());
                    }
                    return new Answer(status, statusLine, headers, body);
                }
            } catch (SocketTimeoutException e) {
                return new TimedOut(seenText());
            } catch (IOException e) {
                return new ClosedWithoutAnswer(seenText() + " (" + e + ")");
            }
        }

        private Map<String, List<String>> headers() throws IOException {
            Map<String, List<String>> headers = new LinkedHashMap<>();
            while (true) {
                String line = line();
                if (line == null) {
                    return null;
                }
                if (line.isEmpty()) {
                    return headers;
                }
                int colon = line.indexOf(':');
                if (colon < 0) {
                    throw new IllegalStateException("not a header line in the response: " + line);
                }
                headers.computeIfAbsent(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(line.substring(colon + 1).strip());
            }
        }

        private byte[] body(int status, boolean head, Map<String, List<String>> headers) throws IOException {
            if (head || status == 204 || status == 304) {
                return new byte[0];
            }
            List<String> encoding = headers.get("transfer-encoding");
            if (encoding != null && encoding.get(encoding.size() - 1).toLowerCase(Locale.ROOT).contains("chunked")) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                while (true) {
                    String size = line();
                    if (size == null) {
                        return null;
                    }
                    int semicolon = size.indexOf(';');
                    int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).strip(), 16);
                    if (n == 0) {
                        while (true) { // trailers, up to the empty line
                            String trailer = line();
                            if (trailer == null || trailer.isEmpty()) {
                                return body.toByteArray();
                            }
                        }
                    }
                    byte[] chunk = bytes(n);
                    if (chunk == null) {
                        return null;
                    }
                    body.writeBytes(chunk);
                    if (line() == null) {
                        return null;
                    }
                }
            }
            List<String> length = headers.get("content-length");
            if (length != null) {
                return bytes(Integer.parseInt(length.get(0)));
            }
            // Neither: the body runs to the end of the connection (HTTP/1.0 style).
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            int b;
            while ((b = read()) >= 0) {
                body.write(b);
            }
            return body.toByteArray();
        }

        /** A line without its CR LF, or null at the end of the stream. */
        private String line() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = read()) >= 0) {
                if (b == '\n') {
                    byte[] bytes = line.toByteArray();
                    int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
                }
                line.write(b);
            }
            return null;
        }

        private byte[] bytes(int n) throws IOException {
            byte[] out = new byte[n];
            for (int i = 0; i < n; i++) {
                int b = read();
                if (b < 0) {
                    return null;
                }
                out[i] = (byte) b;
            }
            return out;
        }

        private final byte[] buffer = new byte[8192];
        private int pos;
        private int limit;

        private int read() throws IOException {
            if (pos == limit) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SocketTimeoutException("deadline passed");
                }
                socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
                int n = in.read(buffer);
                if (n < 0) {
                    return -1;
                }
                seen.write(buffer, 0, n);
                pos = 0;
                limit = n;
            }
            return buffer[pos++] & 0xff;
        }

        private String seenText() {
            byte[] bytes = seen.toByteArray();
            String text = new String(bytes, 0, Math.min(bytes.length, 500), StandardCharsets.ISO_8859_1);
            return text.isEmpty() ? "(nothing)" : text;
        }
    }
}
