package io.genqueue.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A webhook receiver as fal's documentation tells one to verify fal's webhooks, written from those
 * steps and sharing no code with the signer or the JWK encoder: take the JWKS, rebuild each
 * Ed25519 public key from its {@code x} alone, refuse a timestamp more than five minutes off, and
 * accept when any key verifies the hex signature over
 * {@code request_id\nuser_id\ntimestamp\nhex(sha256(body))}.
 */
public final class FalReceiver {

    static final long TOLERANCE_SECONDS = 300;

    private final List<PublicKey> keys;

    private FalReceiver(List<PublicKey> keys) {
        this.keys = keys;
    }

    /** A receiver trusting the keys of a JWKS document as served. */
    public static FalReceiver trusting(String jwksJson) {
        JsonNode doc;
        try {
            doc = new ObjectMapper().readTree(jwksJson);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<PublicKey> keys = new ArrayList<>();
        for (JsonNode jwk : doc.get("keys")) {
            if (!"OKP".equals(jwk.get("kty").asText()) || !"Ed25519".equals(jwk.get("crv").asText())) {
                throw new AssertionError("not an Ed25519 JWK: " + jwk);
            }
            keys.add(publicKeyFromX(jwk.get("x").asText()));
        }
        return new FalReceiver(keys);
    }

    /**
     * The public key from a JWK's {@code x}: base64url, 32 bytes, which RFC 8032 reads as y in
     * little-endian with x's parity in the top bit of the last byte.
     */
    public static PublicKey publicKeyFromX(String x) {
        byte[] raw = Base64.getUrlDecoder().decode(x);
        if (raw.length != 32) {
            throw new AssertionError("x decodes to " + raw.length + " bytes, not 32");
        }
        boolean xOdd = (raw[31] & 0x80) != 0;
        byte[] bigEndian = new byte[32];
        for (int i = 0; i < 32; i++) {
            bigEndian[i] = raw[31 - i];
        }
        bigEndian[0] &= 0x7f;
        BigInteger y = new BigInteger(1, bigEndian);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd, y)));
        } catch (GeneralSecurityException e) {
            throw new AssertionError("x is not an Ed25519 public key: " + x, e);
        }
    }

    /** Whether a delivery with these headers (any case) and body, received at {@code nowSeconds}, is genuine. */
    public boolean accepts(Map<String, String> headers, byte[] body, long nowSeconds) {
        String requestId = header(headers, "x-fal-webhook-request-id");
        String userId = header(headers, "x-fal-webhook-user-id");
        String timestamp = header(headers, "x-fal-webhook-timestamp");
        String signature = header(headers, "x-fal-webhook-signature");
        if (requestId == null || userId == null || timestamp == null || signature == null) {
            return false;
        }
        long sent;
        try {
            sent = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            return false;
        }
        if (Math.abs(nowSeconds - sent) > TOLERANCE_SECONDS) {
            return false;
        }
        byte[] message;
        byte[] signatureBytes;
        try {
            String bodyHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
            message = String.join("\n", requestId, userId, timestamp, bodyHash).getBytes(StandardCharsets.UTF_8);
            signatureBytes = HexFormat.of().parseHex(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
        for (PublicKey key : keys) {
            try {
                Signature verifier = Signature.getInstance("Ed25519");
                verifier.initVerify(key);
                verifier.update(message);
                if (verifier.verify(signatureBytes)) {
                    return true;
                }
            } catch (GeneralSecurityException e) {
                // this key cannot verify it; try the next
            }
        }
        return false;
    }

    private static String header(Map<String, String> headers, String name) {
        return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).findFirst()
                .orElse(null);
    }
}
