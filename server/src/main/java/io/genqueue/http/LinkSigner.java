package io.genqueue.http;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signed, expiring links to stored images: {@code /files/<key>?expires=<unix s>&sig=<HMAC>}. The
 * link is the capability: whoever holds it may fetch that one image until it expires, the way
 * presigned object-store links work, so image URLs can be handed to browsers and other services.
 *
 * <p>Expiry is rounded up to the next whole hour, so polling a result repeatedly yields the same
 * URLs (cacheable) and every link lives at least {@code ttl}.
 */
final class LinkSigner {

    static final long ROUND_SECONDS = 3600;
    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;
    private final Duration ttl;
    private final Clock clock;

    LinkSigner(byte[] secret, Duration ttl, Clock clock) {
        if (secret.length < 32) {
            throw new IllegalArgumentException("a link secret needs at least 32 bytes, got " + secret.length);
        }
        this.key = new SecretKeySpec(secret, ALGORITHM);
        this.ttl = ttl;
        this.clock = clock;
    }

    /** The path and query of a signed link to {@code blobKey}. */
    String sign(String blobKey) {
        long expires = Math.ceilDiv(clock.millis() / 1000 + ttl.toSeconds(), ROUND_SECONDS) * ROUND_SECONDS;
        return "/files/" + blobKey + "?expires=" + expires + "&sig=" + signature(blobKey, expires);
    }

    /** Whether {@code sig} signs {@code blobKey} until {@code expires}, and that time has not passed. */
    boolean verify(String blobKey, String expires, String sig) {
        long at;
        try {
            at = Long.parseLong(expires);
        } catch (NumberFormatException e) {
            return false;
        }
        if (at * 1000 < clock.millis()) {
            return false;
        }
        byte[] expected = signature(blobKey, at).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, sig.getBytes(StandardCharsets.US_ASCII));
    }

    private String signature(String blobKey, long expires) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            byte[] digest = mac.doFinal((blobKey + "\n" + expires).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
