package io.genqueue.image;

import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A {@code data:image/...;base64,...} URI, decoded.
 *
 * <p>Accepted syntax (RFC 2397, restricted to what a reference image needs):
 * {@code data:<type>[;<name>=<value>]...;base64,<payload>} where
 * <ul>
 *   <li>the scheme, the type and the word {@code base64} are case-insensitive;
 *   <li>the type is {@code image/png}, {@code image/jpeg} (or {@code image/jpg}),
 *       {@code image/webp} or {@code image/gif}; it is only a declaration, the bytes are
 *       identified by {@link ImageProbe} later;
 *   <li>parameters such as {@code charset=...} or {@code name=...} are allowed and ignored;
 *   <li>the payload is standard base64 (RFC 4648 section 4: {@code A-Z a-z 0-9 + /}) with optional
 *       {@code =} padding. The URL-safe alphabet, percent-encoding, whitespace and line breaks are
 *       refused: they are rare in practice and would make the size check before decoding fuzzy.
 * </ul>
 *
 * @param mediaType the declared type, lower case and normalized ({@code image/jpg} becomes
 *     {@code image/jpeg})
 * @param bytes the decoded payload, never empty
 */
public record DataUri(String mediaType, byte[] bytes) {

    private static final Map<String, String> IMAGE_TYPES = Map.of(
            "image/png", "image/png",
            "image/jpeg", "image/jpeg",
            "image/jpg", "image/jpeg",
            "image/webp", "image/webp",
            "image/gif", "image/gif");

    /** A {@code name=value} parameter: RFC 2045 token characters, value optionally quoted. */
    private static final Pattern PARAMETER =
            Pattern.compile("[A-Za-z0-9!#$&^_.+\\-]+=(\"[^\"]*\"|[A-Za-z0-9!#$&^_.+\\-%]*)");

    /** True when the string starts with {@code data:} (any case); such strings must then {@link #parse}. */
    public static boolean looksLikeDataUri(String value) {
        return value.regionMatches(true, 0, "data:", 0, 5);
    }

    /**
     * Parses {@code data:image/<type>;base64,<payload>}. A payload whose encoded length already
     * implies more than {@code maxBytes} is refused before anything is decoded.
     *
     * @throws IllegalArgumentException with a client-facing message (starting with "data URI")
     *     when the URI is malformed, not base64, not an {@code image/} type, or decodes to more
     *     than {@code maxBytes}
     */
    public static DataUri parse(String uri, long maxBytes) {
        if (uri == null || !looksLikeDataUri(uri)) {
            throw new IllegalArgumentException("data URI must start with data:");
        }
        int comma = uri.indexOf(',');
        if (comma < 0) {
            throw new IllegalArgumentException("data URI has no comma before its data");
        }
        String[] header = uri.substring(5, comma).split(";", -1);
        String declared = header[0].toLowerCase(Locale.ROOT);
        if (!declared.startsWith("image/")) {
            throw new IllegalArgumentException(declared.isEmpty()
                    ? "data URI does not declare an image type"
                    : "data URI is not an image (" + clip(declared) + ")");
        }
        String mediaType = IMAGE_TYPES.get(declared);
        if (mediaType == null) {
            throw new IllegalArgumentException("data URI image type " + clip(declared)
                    + " is not supported: use PNG, JPEG, WebP or GIF");
        }
        if (header.length < 2 || !header[header.length - 1].equalsIgnoreCase("base64")) {
            throw new IllegalArgumentException("data URI is not base64-encoded");
        }
        for (int i = 1; i < header.length - 1; i++) {
            if (!PARAMETER.matcher(header[i]).matches()) {
                throw new IllegalArgumentException("data URI has a malformed parameter");
            }
        }
        return new DataUri(mediaType, decode(uri, comma + 1, maxBytes));
    }

    private static byte[] decode(String uri, int start, long maxBytes) {
        int length = uri.length() - start;
        if (length == 0) {
            throw new IllegalArgumentException("data URI has no data");
        }
        // Every 4 characters carry 3 bytes; padding removes at most 2. Refuse a huge string
        // before running the regex or the decoder over it.
        long leastDecoded = (long) length / 4 * 3 - 2;
        if (leastDecoded > maxBytes) {
            throw tooLarge(maxBytes);
        }
        String payload = uri.substring(start);
        if (!isStandardBase64(payload)) {
            throw new IllegalArgumentException("data URI is not valid base64");
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(payload);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("data URI is not valid base64");
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("data URI has no data");
        }
        if (bytes.length > maxBytes) {
            throw tooLarge(maxBytes);
        }
        return bytes;
    }

    /** Standard alphabet, at most two {@code =} at the very end, no dangling single character. */
    private static boolean isStandardBase64(String payload) {
        int end = payload.length();
        int padding = 0;
        while (end > 0 && payload.charAt(end - 1) == '=' && padding < 2) {
            end--;
            padding++;
        }
        for (int i = 0; i < end; i++) {
            char c = payload.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '/';
            if (!ok) {
                return false;
            }
        }
        // A lone character in the last group carries less than a byte; padding only completes a group.
        return end % 4 != 1 && (padding == 0 || payload.length() % 4 == 0);
    }

    private static IllegalArgumentException tooLarge(long maxBytes) {
        return new IllegalArgumentException("data URI is larger than " + Units.bytes(maxBytes));
    }

    /** Echoes a client's declared type back without letting a megabyte of it into a message. */
    private static String clip(String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
}
