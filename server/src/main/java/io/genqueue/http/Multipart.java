package io.genqueue.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A {@code multipart/form-data} body (RFC 7578), already read within its size limit: its parts,
 * each with its field name, file name and content type. Anything malformed is an
 * {@link IllegalArgumentException} whose message says what, for a 400.
 */
final class Multipart {

    /** The most parts read: more than any form of ours has fields, so a body of empty parts stays cheap. */
    static final int MAX_PARTS = 64;
    private static final int MAX_PART_HEADERS = 8192;

    /** One part: {@code fileName} null for a plain field. */
    record Part(String name, String fileName, String contentType, byte[] bytes) {

        String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private Multipart() {
    }

    /** The boundary of a {@code multipart/form-data} content type; empty when it is another type. */
    static Optional<String> boundary(String contentType) {
        String[] params = contentType.split(";");
        if (!params[0].strip().equalsIgnoreCase("multipart/form-data")) {
            return Optional.empty();
        }
        for (int i = 1; i < params.length; i++) {
            String param = params[i].strip();
            int eq = param.indexOf('=');
            if (eq > 0 && param.substring(0, eq).strip().equalsIgnoreCase("boundary")) {
                String value = unquote(param.substring(eq + 1).strip());
                if (!value.isEmpty() && value.length() <= 70) {
                    return Optional.of(value);
                }
            }
        }
        throw new IllegalArgumentException("multipart/form-data needs a boundary parameter of 1 to 70 characters");
    }

    /** The parts of {@code body}, in order. */
    static List<Part> parse(byte[] body, String boundary) {
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        int at = indexOf(body, delimiter, 0);
        if (at < 0) {
            throw new IllegalArgumentException("the multipart body has no boundary line (--" + boundary + ")");
        }
        byte[] next = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        List<Part> parts = new ArrayList<>();
        int pos = at + delimiter.length;
        while (true) {
            if (startsWith(body, pos, "--")) {
                return parts; // the closing delimiter
            }
            pos = skipTransportPadding(body, pos);
            if (!startsWith(body, pos, "\r\n")) {
                throw new IllegalArgumentException("a multipart boundary line must end with CRLF");
            }
            pos += 2;
            int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
            if (headersEnd < 0 || headersEnd - pos > MAX_PART_HEADERS) {
                throw new IllegalArgumentException("a multipart part's headers do not end with an empty line");
            }
            String headers = new String(body, pos, headersEnd - pos, StandardCharsets.UTF_8);
            int contentStart = headersEnd + 4;
            int end = indexOf(body, next, contentStart);
            if (end < 0) {
                throw new IllegalArgumentException("the multipart body ends before its closing boundary (--" + boundary + "--)");
            }
            if (parts.size() == MAX_PARTS) {
                throw new IllegalArgumentException("a multipart body may have at most " + MAX_PARTS + " parts");
            }
            byte[] content = java.util.Arrays.copyOfRange(body, contentStart, end);
            parts.add(part(headers, content));
            pos = end + next.length;
        }
    }

    private static Part part(String headers, byte[] content) {
        String name = null;
        String fileName = null;
        String type = "text/plain";
        for (String line : headers.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("a multipart part has a malformed header line");
            }
            String header = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            if (header.equals("content-disposition")) {
                String[] params = value.split(";");
                if (!params[0].strip().equalsIgnoreCase("form-data")) {
                    throw new IllegalArgumentException("a multipart part's Content-Disposition must be form-data");
                }
                for (int i = 1; i < params.length; i++) {
                    String param = params[i].strip();
                    int eq = param.indexOf('=');
                    if (eq <= 0) {
                        continue;
                    }
                    String key = param.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                    String v = unquote(param.substring(eq + 1).strip());
                    if (key.equals("name")) {
                        name = v;
                    } else if (key.equals("filename")) {
                        fileName = v;
                    }
                }
            } else if (header.equals("content-type")) {
                type = value;
            }
        }
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a multipart part lacks Content-Disposition: form-data; name=\"...\"");
        }
        return new Part(name, fileName, type, content);
    }

    /** RFC 2046 allows white space after a boundary, before its CRLF. */
    private static int skipTransportPadding(byte[] body, int pos) {
        while (pos < body.length && (body[pos] == ' ' || body[pos] == '\t')) {
            pos++;
        }
        return pos;
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            return value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
        }
        return value;
    }

    private static boolean startsWith(byte[] body, int pos, String text) {
        if (pos + text.length() > body.length) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (body[pos + i] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] body, byte[] target, int from) {
        outer:
        for (int i = Math.max(0, from); i <= body.length - target.length; i++) {
            for (int j = 0; j < target.length; j++) {
                if (body[i + j] != target[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
