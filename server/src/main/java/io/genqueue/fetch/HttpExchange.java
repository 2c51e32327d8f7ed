package io.genqueue.fetch;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One HTTP/1.1 request and its response over a {@link CheckedConnector.Connection} that the
 * caller has opened (to an address it has checked) and will close. Deliberately small: one
 * request per connection ({@code Connection: close}), no compression, no proxies, no redirects
 * (the caller decides what a 3xx means).
 *
 * <p>Every read is bounded by the shared {@link Deadline} and by a short slice
 * ({@value #READ_SLICE_MILLIS} ms), between which the thread's interrupt flag is checked: a
 * server that drips one byte at a time cannot stretch the exchange past its deadline, and a
 * cancelled job stops promptly even on a platform thread whose socket read would not notice an
 * interrupt. A socket write cannot time out, so while the request is written a watchdog closes the
 * connection when the deadline passes: a server that never reads cannot hold a request body
 * forever. The response head is capped at {@value #MAX_HEADER_BYTES} bytes and
 * {@value #MAX_HEADER_COUNT} fields, the body at the caller's limit.
 *
 * <p>Failures are {@link IOException}s the caller translates: {@link Deadline.ExceededException},
 * {@link BodyTooLargeException}, {@link ProtocolException} (a malformed response),
 * {@link EOFException} (the connection closed before the response was complete), or plain I/O
 * errors (after the deadline passed, any of them means it passed). An interrupt is an
 * {@link InterruptedException}, with the interrupt flag cleared.
 */
final class HttpExchange {

    static final int MAX_HEADER_BYTES = 64 * 1024;
    static final int MAX_HEADER_COUNT = 100;
    static final int READ_SLICE_MILLIS = 250;
    private static final int MAX_INTERIM_RESPONSES = 10;
    private static final int MAX_CHUNK_LINE = 1024;

    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] ([1-9][0-9]{2})(?: .*)?");
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");

    /** Fields that frame the message: the exchange writes them itself. */
    private static final Set<String> FRAMING = Set.of("host", "content-length", "transfer-encoding", "connection");

    /**
     * Closes connections whose request write outlived its deadline. One daemon thread for all
     * exchanges; a cancelled watch leaves its queue at once.
     */
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    /** The status and header fields of a response; names are lower case, values in arrival order. */
    record Head(int status, Map<String, List<String>> headers) {

        /** The first value of a field. */
        Optional<String> header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? Optional.empty() : Optional.of(values.get(0));
        }

        List<String> headers(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }
    }

    /** The body is (or says it will be) larger than the caller's limit. */
    static final class BodyTooLargeException extends IOException {
        BodyTooLargeException() {
            super("body too large");
        }
    }

    /**
     * A request checked and encoded, so that a bad one fails before any connection is made.
     * Compared by identity (it holds arrays); never shared between threads while sent.
     */
    record Request(byte[] head, byte[] body) {

        /**
         * A request without a body (a {@code GET}).
         *
         * @param headers fields to send after {@code Host}, in the map's order; not the framing
         *     fields ({@code Host}, {@code Content-Length}, {@code Transfer-Encoding}, {@code Connection})
         * @throws IllegalArgumentException when the method or a field name is not a token, a value
         *     is not printable ASCII, or a field is a framing one
         */
        static Request of(String method, FetchUrl url, Map<String, String> headers) {
            return new Request(encodeHead(method, url, headers, -1), new byte[0]);
        }

        /** A request with {@code body}, framed by {@code Content-Length}; otherwise as {@link #of(String, FetchUrl, Map)}. */
        static Request of(String method, FetchUrl url, Map<String, String> headers, byte[] body) {
            return new Request(encodeHead(method, url, headers, body.length), body);
        }
    }

    private final CheckedConnector.Connection connection;
    private final Socket socket;
    private final Deadline deadline;
    private final InputStream in;
    private final byte[] buffer = new byte[8192];
    private int position;
    private int limit;
    private int headerBytes;

    HttpExchange(CheckedConnector.Connection connection, Deadline deadline) throws IOException {
        this.connection = connection;
        this.socket = connection.socket();
        this.deadline = deadline;
        this.in = socket.getInputStream();
    }

    private static byte[] encodeHead(String method, FetchUrl url, Map<String, String> headers, long contentLength) {
        if (!TOKEN.matcher(method).matches()) {
            throw new IllegalArgumentException("not an HTTP method: " + method);
        }
        requireVisibleAscii(url.hostHeader());
        requireVisibleAscii(url.requestTarget());
        StringBuilder head = new StringBuilder()
                .append(method).append(' ').append(url.requestTarget()).append(" HTTP/1.1\r\n")
                .append("Host: ").append(url.hostHeader()).append("\r\n");
        headers.forEach((name, value) -> {
            if (!TOKEN.matcher(name).matches() || FRAMING.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("header field name not allowed here: " + name);
            }
            requireFieldValue(name, value);
            head.append(name).append(": ").append(value).append("\r\n");
        });
        if (contentLength >= 0) {
            head.append("Content-Length: ").append(contentLength).append("\r\n");
        }
        return head.append("Connection: close\r\n\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Sends the request within the deadline: past it, the watchdog closes the connection under a blocked write. */
    void send(Request request) throws IOException, InterruptedException {
        deadline.throwIfExpired();
        ScheduledFuture<?> watch = WATCHDOG.schedule(connection::close, deadline.remainingNanos(), TimeUnit.NANOSECONDS);
        try {
            OutputStream out = socket.getOutputStream();
            out.write(request.head());
            out.write(request.body());
            out.flush();
        } catch (IOException e) {
            if (Thread.interrupted()) {
                // The channel under the socket closed itself on the interrupt.
                throw interrupted(e);
            }
            if (deadline.expired()) {
                Deadline.ExceededException exceeded = new Deadline.ExceededException();
                exceeded.initCause(e);
                throw exceeded;
            }
            throw e;
        } finally {
            watch.cancel(false);
        }
    }

    /** Reads the status line and header fields, skipping interim (1xx) responses. */
    Head readHead() throws IOException, InterruptedException {
        for (int interim = 0; interim <= MAX_INTERIM_RESPONSES; interim++) {
            Head head = readOneHead();
            if (head.status() == 101) {
                throw new ProtocolException("unexpected protocol switch");
            }
            if (head.status() >= 200) {
                return head;
            }
        }
        throw new ProtocolException("too many interim responses");
    }

    /**
     * Reads the body of a response whose head was just read, framed by {@code Transfer-Encoding:
     * chunked}, by {@code Content-Length}, or by the end of the connection.
     *
     * @throws BodyTooLargeException as soon as more than {@code maxBytes} are announced or arrive
     */
    byte[] readBody(Head head, long maxBytes) throws IOException, InterruptedException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        readBody(head, maxBytes, body);
        return body.toByteArray();
    }

    /**
     * Reads and drops the body of a response whose head was just read, so that the server can
     * finish sending it; framed and limited like {@link #readBody}.
     *
     * @throws BodyTooLargeException as soon as more than {@code maxBytes} are announced or arrive
     */
    void discardBody(Head head, long maxBytes) throws IOException, InterruptedException {
        readBody(head, maxBytes, OutputStream.nullOutputStream());
    }

    private void readBody(Head head, long maxBytes, OutputStream sink) throws IOException, InterruptedException {
        if (head.status() == 204 || head.status() == 304) {
            return; // never a body, whatever the fields say (RFC 9112 section 6.3)
        }
        List<String> codings = head.headers("transfer-encoding");
        if (!codings.isEmpty()) {
            // Transfer-Encoding wins over Content-Length (RFC 9112 section 6.3). We asked for
            // identity content, so anything but plain "chunked" is not something we can use.
            if (codings.size() != 1 || !codings.get(0).trim().equalsIgnoreCase("chunked")) {
                throw new ProtocolException("unsupported transfer encoding");
            }
            readChunked(maxBytes, sink);
            return;
        }
        List<String> lengths = head.headers("content-length");
        if (!lengths.isEmpty()) {
            long length = contentLength(lengths);
            if (length > maxBytes) {
                throw new BodyTooLargeException();
            }
            copy(length, sink);
            return;
        }
        readUntilClose(maxBytes, sink);
    }

    private Head readOneHead() throws IOException, InterruptedException {
        String statusLine = readHeaderLine();
        Matcher matcher = STATUS_LINE.matcher(statusLine);
        if (!matcher.matches()) {
            throw new ProtocolException("malformed status line");
        }
        int status = Integer.parseInt(matcher.group(1));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        int count = 0;
        for (String line = readHeaderLine(); !line.isEmpty(); line = readHeaderLine()) {
            if (++count > MAX_HEADER_COUNT) {
                throw new ProtocolException("too many header fields");
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || !TOKEN.matcher(line.substring(0, colon)).matches()) {
                // Also refuses obsolete line folding (a line starting with whitespace).
                throw new ProtocolException("malformed header field");
            }
            String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            headers.computeIfAbsent(name, n -> new ArrayList<>(1)).add(value);
        }
        return new Head(status, headers);
    }

    /** A line of the response head, counted against the head's byte cap. */
    private String readHeaderLine() throws IOException, InterruptedException {
        String line = readLine(MAX_HEADER_BYTES - headerBytes);
        headerBytes += line.length() + 2;
        return line;
    }

    /**
     * A line ending in CRLF (or a bare LF), without its ending, decoded as ISO-8859-1.
     *
     * @throws ProtocolException when the line is longer than {@code max} bytes or has control characters
     */
    private String readLine(int max) throws IOException, InterruptedException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int b = read();
            if (b < 0) {
                throw new EOFException("connection closed in the response head");
            }
            if (b == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            if ((b < 0x20 && b != '\t' && b != '\r') || b == 0x7f) {
                throw new ProtocolException("control character in the response head");
            }
            if (line.length() >= max) {
                throw new ProtocolException("response head too large");
            }
            line.append((char) b);
        }
    }

    private static long contentLength(List<String> values) throws ProtocolException {
        String first = values.get(0).trim();
        for (String value : values) {
            if (!value.trim().equals(first)) {
                throw new ProtocolException("conflicting Content-Length");
            }
        }
        if (first.isEmpty() || first.length() > 18 || !first.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new ProtocolException("malformed Content-Length");
        }
        return Long.parseLong(first);
    }

    private void readChunked(long maxBytes, OutputStream sink) throws IOException, InterruptedException {
        long total = 0;
        while (true) {
            long size = chunkSize(readLine(MAX_CHUNK_LINE));
            if (size == 0) {
                break;
            }
            if (size > maxBytes - total) {
                throw new BodyTooLargeException();
            }
            copy(size, sink);
            total += size;
            if (!readLine(MAX_CHUNK_LINE).isEmpty()) {
                throw new ProtocolException("malformed chunk");
            }
        }
        // Trailer fields are ignored; they count against the head's byte cap.
        String trailer;
        do {
            trailer = readHeaderLine();
        } while (!trailer.isEmpty());
    }

    private static long chunkSize(String line) throws ProtocolException {
        int semicolon = line.indexOf(';');
        String hex = (semicolon < 0 ? line : line.substring(0, semicolon)).trim();
        if (hex.isEmpty() || hex.length() > 15) {
            throw new ProtocolException("malformed chunk size");
        }
        try {
            return Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
            throw new ProtocolException("malformed chunk size");
        }
    }

    private void readUntilClose(long maxBytes, OutputStream sink) throws IOException, InterruptedException {
        long total = 0;
        while (true) {
            if (position == limit && !fill()) {
                return;
            }
            int available = limit - position;
            if (available > maxBytes - total) {
                throw new BodyTooLargeException();
            }
            sink.write(buffer, position, available);
            total += available;
            position = limit;
        }
    }

    /** Moves exactly {@code length} body bytes to {@code sink}. */
    private void copy(long length, OutputStream sink) throws IOException, InterruptedException {
        long done = 0;
        while (done < length) {
            if (position == limit && !fill()) {
                throw new EOFException("connection closed before the body was complete");
            }
            int n = (int) Math.min(length - done, limit - position);
            sink.write(buffer, position, n);
            position += n;
            done += n;
        }
    }

    private int read() throws IOException, InterruptedException {
        if (position == limit && !fill()) {
            return -1;
        }
        return buffer[position++] & 0xff;
    }

    /**
     * Refills the buffer with one socket read, waiting at most until the deadline in slices of
     * {@value #READ_SLICE_MILLIS} ms. Returns false at the end of the stream.
     */
    private boolean fill() throws IOException, InterruptedException {
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("exchange interrupted");
            }
            deadline.throwIfExpired();
            socket.setSoTimeout(deadline.remainingMillis(READ_SLICE_MILLIS));
            try {
                int n = in.read(buffer, 0, buffer.length);
                if (n < 0) {
                    return false;
                }
                position = 0;
                limit = n;
                if (n > 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // One slice passed with no data: check the interrupt flag and the deadline again.
            }
        }
    }

    private static InterruptedException interrupted(IOException cause) {
        InterruptedException interrupted = new InterruptedException("exchange interrupted");
        interrupted.initCause(cause);
        return interrupted;
    }

    private static void requireVisibleAscii(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException("request line or Host would contain character " + (int) c);
            }
        }
    }

    /** Printable ASCII, spaces and tabs: no line break can end the field early (header injection). */
    private static void requireFieldValue(String name, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c >= 0x7f) {
                throw new IllegalArgumentException("header field " + name + " would contain character " + (int) c);
            }
        }
    }

    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("genqueue-fetch-write-watchdog").daemon().factory());
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }
}
