package io.genqueue.webhook;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Public keys as JSON Web Keys (RFC 8037) and the JWKS document served at
 * {@code /.well-known/jwks.json}, in the shape fal publishes and its receivers read:
 * {@code {"keys":[{"kty":"OKP","crv":"Ed25519","x":...,"kid":...}]}}. Only public parts are ever
 * written here: a {@link SigningKey}'s private key has no way into this class's output.
 */
public final class Jwks {

    static final int ED25519_KEY_BYTES = 32;
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private Jwks() {
    }

    /** The JWKS document of {@code keys}, in their order (receivers try each key in turn). */
    public static Map<String, Object> document(List<SigningKey> keys) {
        return Map.of("keys", keys.stream().map(Jwks::jwk).toList());
    }

    /** One key's JWK: its four public members, nothing else. */
    static Map<String, Object> jwk(SigningKey key) {
        Map<String, Object> jwk = new LinkedHashMap<>();
        jwk.put("kty", "OKP");
        jwk.put("crv", "Ed25519");
        jwk.put("x", BASE64URL.encodeToString(key.x()));
        jwk.put("kid", key.kid());
        return jwk;
    }

    /**
     * The RFC 8032 encoding of a public key, the bytes of the JWK's {@code x} (RFC 8037 section 2):
     * the point's y coordinate as 32 bytes little-endian, with the top bit of the last byte set
     * when x is odd. The JDK gives the point as (xOdd, y) with y a {@link BigInteger}.
     */
    static byte[] encode(EdECPublicKey key) {
        EdECPoint point = key.getPoint();
        BigInteger y = point.getY();
        if (y.signum() < 0 || y.bitLength() > 255) {
            throw new IllegalArgumentException("not an Ed25519 point: y has " + y.bitLength() + " bits");
        }
        // Minimal two's complement, big-endian: at most 32 bytes (255 bits and the sign bit), fewer
        // when y's top bytes are zero; the rest of out stays zero.
        byte[] bigEndian = y.toByteArray();
        byte[] out = new byte[ED25519_KEY_BYTES];
        for (int i = 0; i < bigEndian.length && i < ED25519_KEY_BYTES; i++) {
            out[i] = bigEndian[bigEndian.length - 1 - i];
        }
        if (point.isXOdd()) {
            out[ED25519_KEY_BYTES - 1] |= (byte) 0x80;
        }
        return out;
    }

    /**
     * The key's id: its RFC 7638 thumbprint, base64url (no padding) of the SHA-256 of the JWK's
     * required members in lexicographic order without whitespace. Anyone can recompute it from
     * the JWK (jose's {@code calculateJwkThumbprint}, for one), and it is the same in every
     * process and after every restart.
     */
    static String thumbprint(byte[] x) {
        String canonical = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" + BASE64URL.encodeToString(x) + "\"}";
        try {
            return BASE64URL.encodeToString(MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
