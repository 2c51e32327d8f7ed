package io.genqueue.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Signs webhook deliveries as fal does, so receivers written for fal verify ours unchanged: an
 * Ed25519 signature, in hex, over the UTF-8 bytes of
 * {@code request_id + "\n" + user_id + "\n" + timestamp + "\n" + hex(sha256(body))}, sent in
 * {@code X-Fal-Webhook-Signature} beside the three values it covers. Receivers find the public key
 * in {@code /.well-known/jwks.json} (fal's receivers try every key there: no key id is sent) and
 * refuse timestamps more than five minutes from their clock, so a signature is made for each
 * delivery attempt, never kept.
 *
 * <p>Thread-safe: each signature gets its own {@link Signature}.
 */
public final class WebhookSigner {

    public static final String REQUEST_ID = "X-Fal-Webhook-Request-Id";
    public static final String USER_ID = "X-Fal-Webhook-User-Id";
    public static final String TIMESTAMP = "X-Fal-Webhook-Timestamp";
    public static final String SIGNATURE = "X-Fal-Webhook-Signature";

    private final SigningKey key;
    private final PrivateKey privateKey;

    public WebhookSigner(SigningKey key) {
        this.key = key;
        try {
            this.privateKey = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(key.privateKey()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("signing key " + key.kid() + " is not an Ed25519 private key", e);
        }
    }

    @Override
    public String toString() {
        return "WebhookSigner[kid=" + key.kid() + "]";
    }

    /** The id of the key this signs with. */
    public String kid() {
        return key.kid();
    }

    /**
     * The four headers of one delivery attempt, under fal's names.
     *
     * @param requestId the request the webhook is about
     * @param userId the tenant that submitted it
     * @param timestampSeconds now, in Unix seconds
     * @param body the exact bytes that will be sent
     */
    public Map<String, String> headers(String requestId, String userId, long timestampSeconds, byte[] body) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(REQUEST_ID, requestId);
        headers.put(USER_ID, userId);
        headers.put(TIMESTAMP, Long.toString(timestampSeconds));
        headers.put(SIGNATURE, signature(requestId, userId, timestampSeconds, body));
        return headers;
    }

    /** The hex Ed25519 signature (128 characters) of the signed message; see the class comment. */
    public String signature(String requestId, String userId, long timestampSeconds, byte[] body) {
        byte[] message = message(requestId, userId, timestampSeconds, body);
        try {
            Signature ed25519 = Signature.getInstance("Ed25519");
            ed25519.initSign(privateKey);
            ed25519.update(message);
            return HexFormat.of().formatHex(ed25519.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed with key " + key.kid(), e);
        }
    }

    /**
     * The signed bytes. The values are joined by newlines and sent as headers, so none may hold a
     * line break (it would let one message read as another, and break the header).
     */
    static byte[] message(String requestId, String userId, long timestampSeconds, byte[] body) {
        checkValue("request id", requestId);
        checkValue("user id", userId);
        if (timestampSeconds < 0) {
            throw new IllegalArgumentException("timestamp before 1970: " + timestampSeconds);
        }
        String bodyHash;
        try {
            bodyHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        return (requestId + "\n" + userId + "\n" + timestampSeconds + "\n" + bodyHash).getBytes(StandardCharsets.UTF_8);
    }

    private static void checkValue(String what, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " of a webhook must not be empty");
        }
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("the " + what + " of a webhook must not hold a line break");
        }
    }
}
