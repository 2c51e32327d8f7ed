package io.genqueue.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.generation.Violation;
import io.genqueue.json.Json;
import io.helidon.http.HeaderNames;
import io.helidon.http.RequestException;
import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The one reader of request bodies (submit, the admin API, OpenAI's images routes): for JSON, {@code Content-Type} must be
 * {@code application/json} (415), the body at most the configured size (413, read no further),
 * complete (400) and one strict JSON document ({@link Json}; a 422 {@code json_invalid} at
 * {@code ["body"]} otherwise). No answer echoes more than a bounded part of what was sent.
 */
final class JsonBody {

    private final long maxBodyBytes;
    private final String tooLargeHint;

    /** @param tooLargeHint the 413's advice after "Request body is larger than N bytes; " */
    JsonBody(long maxBodyBytes, String tooLargeHint) {
        this.maxBodyBytes = maxBodyBytes;
        this.tooLargeHint = tooLargeHint;
    }

    /** The request's body as JSON. @throws ApiError 413, 415, 400 or 422 */
    JsonNode read(ServerRequest req) {
        checkContentType(req);
        return parse(readBody(req));
    }

    private static void checkContentType(ServerRequest req) {
        String header = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
        String[] parts = header.split(";", -1);
        boolean json = parts[0].strip().toLowerCase(Locale.ROOT).equals("application/json");
        for (int i = 1; json && i < parts.length; i++) {
            String param = parts[i].strip().toLowerCase(Locale.ROOT).replace("\"", "");
            if (param.startsWith("charset=") && !param.equals("charset=utf-8")) {
                json = false;
            }
        }
        if (!json) {
            throw ApiError.detail(415, "Content-Type must be application/json" + (header.isEmpty() ? "." : ", not " + truncate(header) + "."));
        }
    }

    /**
     * The request's body as bytes, whatever its type (multipart forms): at most the configured
     * size. @throws ApiError 413 or 400
     */
    byte[] bytes(ServerRequest req) {
        return readBody(req);
    }

    private byte[] readBody(ServerRequest req) {
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > maxBodyBytes) {
            throw tooLarge();
        }
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        // A declared length is read exactly; a chunked body up to one byte past the limit.
        int toRead = (int) (declared.isPresent() ? declared.getAsLong() : Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes(toRead);
        } catch (RequestException e) {
            // The HTTP layer's own limit stops a chunked body that grows past it.
            throw e.status().code() == 413 ? tooLarge() : malformedBody();
        } catch (IOException | RuntimeException e) {
            // The client ended or garbled the body: fewer bytes than announced, a bad chunk size.
            throw malformedBody();
        }
        if (bytes.length > maxBodyBytes) {
            throw tooLarge();
        }
        return bytes;
    }

    private static ApiError malformedBody() {
        return ApiError.detail(400, "Malformed request body: it ended early or its chunked encoding is invalid.");
    }

    private ApiError tooLarge() {
        return ApiError.detail(413, "Request body is larger than " + maxBodyBytes + " bytes; " + tooLargeHint);
    }

    private static JsonNode parse(byte[] bytes) {
        if (bytes.length == 0) {
            throw ErrorMapper.validation(List.of(new Violation(List.of("body"), "Request body is empty; expected a JSON object.",
                    "json_invalid")));
        }
        try {
            return Json.parse(bytes);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw ErrorMapper.validation(List.of(new Violation(List.of("body"), "Invalid JSON" + where + ": "
                    + truncate(e.getOriginalMessage()), "json_invalid")));
        }
    }
    private static String truncate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
