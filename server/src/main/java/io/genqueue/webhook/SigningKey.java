package io.genqueue.webhook;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.EdECPublicKey;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * One Ed25519 key that webhook deliveries are signed with. The private part never leaves the
 * signer and the store: it is in no {@link #toString}, no JWKS, no log.
 *
 * @param kid the key's id in the JWKS: the RFC 7638 thumbprint of its public key ({@link Jwks#thumbprint})
 * @param privateKey the private key, PKCS#8-encoded as the JDK encodes it
 * @param x the public key: the 32 bytes of its RFC 8032 encoding (the JWK's {@code x}, decoded)
 * @param createdAt when it was made
 * @param retiredAt when a rotation replaced it, or null while it is the active key
 * @param publishedUntil for a retired key, the end of its grace period: the JWKS shows it until
 *     then; null while it is the active key
 */
public record SigningKey(String kid, byte[] privateKey, byte[] x, Instant createdAt, Instant retiredAt, Instant publishedUntil) {

    public SigningKey {
        Objects.requireNonNull(kid, "kid");
        Objects.requireNonNull(createdAt, "createdAt");
        if ((retiredAt == null) != (publishedUntil == null)) {
            throw new IllegalArgumentException("a retired key has an end of publication, and only a retired key");
        }
        if (x.length != Jwks.ED25519_KEY_BYTES) {
            throw new IllegalArgumentException("an Ed25519 public key has 32 bytes, not " + x.length);
        }
        privateKey = privateKey.clone();
        x = x.clone();
    }

    /** A new key pair, active (not retired), its kid computed from its public key. */
    public static SigningKey generate(Instant createdAt) {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no Ed25519 (every JDK 15+ has)", e);
        }
        byte[] x = Jwks.encode((EdECPublicKey) pair.getPublic());
        return new SigningKey(Jwks.thumbprint(x), pair.getPrivate().getEncoded(), x, createdAt, null, null);
    }

    @Override
    public byte[] privateKey() {
        return privateKey.clone();
    }

    @Override
    public byte[] x() {
        return x.clone();
    }

    public boolean retired() {
        return retiredAt != null;
    }

    /** Whether the JWKS shows it at {@code now}: while active, and after that until the end of its grace period. */
    public boolean publishedAt(Instant now) {
        return retiredAt == null || publishedUntil.isAfter(now);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SigningKey k && kid.equals(k.kid) && Arrays.equals(privateKey, k.privateKey) && Arrays.equals(x, k.x)
                && createdAt.equals(k.createdAt) && Objects.equals(retiredAt, k.retiredAt) && Objects.equals(publishedUntil, k.publishedUntil);
    }

    @Override
    public int hashCode() {
        return kid.hashCode();
    }

    @Override
    public String toString() {
        return "SigningKey[kid=" + kid + ", createdAt=" + createdAt
                + (retiredAt == null ? ", active" : ", retiredAt=" + retiredAt + ", publishedUntil=" + publishedUntil) + ", privateKey=<redacted>]";
    }
}
