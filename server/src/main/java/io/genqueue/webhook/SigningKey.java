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
 * @param createdAt when it was made: the JWKS shows it from then on
 * @param signsFrom when it starts signing: its creation, or for a key a rotation published ahead
 *     (the lead), the end of that lead, so receivers that cache the JWKS hold it before it signs
 * @param retiredAt when it stops signing, set by the rotation that replaced it (the new key's
 *     {@code signsFrom}, which may be ahead); null while no rotation has named its end
 * @param publishedUntil for a retired key, the end of its grace period: the JWKS shows it until
 *     then; null while it is not retired
 */
public record SigningKey(String kid, byte[] privateKey, byte[] x, Instant createdAt, Instant signsFrom, Instant retiredAt,
        Instant publishedUntil) {

    public SigningKey {
        Objects.requireNonNull(kid, "kid");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(signsFrom, "signsFrom");
        if ((retiredAt == null) != (publishedUntil == null)) {
            throw new IllegalArgumentException("a retired key has an end of publication, and only a retired key");
        }
        if (x.length != Jwks.ED25519_KEY_BYTES) {
            throw new IllegalArgumentException("an Ed25519 public key has 32 bytes, not " + x.length);
        }
        privateKey = privateKey.clone();
        x = x.clone();
    }

    /** A new key pair, made at {@code createdAt}, signing from {@code signsFrom}, its kid computed from its public key. */
    public static SigningKey generate(Instant createdAt, Instant signsFrom) {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no Ed25519 (every JDK 15+ has)", e);
        }
        byte[] x = Jwks.encode((EdECPublicKey) pair.getPublic());
        return new SigningKey(Jwks.thumbprint(x), pair.getPrivate().getEncoded(), x, createdAt, signsFrom, null, null);
    }

    @Override
    public byte[] privateKey() {
        return privateKey.clone();
    }

    @Override
    public byte[] x() {
        return x.clone();
    }

    /** Whether a rotation has named the end of its signing (which may still be ahead). */
    public boolean retired() {
        return retiredAt != null;
    }

    /** Whether it signs at {@code now}: from {@link #signsFrom} until its retirement. */
    public boolean signsAt(Instant now) {
        return !signsFrom.isAfter(now) && (retiredAt == null || retiredAt.isAfter(now));
    }

    /** Whether the JWKS shows it at {@code now}: from its creation until the end of its grace period. */
    public boolean publishedAt(Instant now) {
        return retiredAt == null || publishedUntil.isAfter(now);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SigningKey k && kid.equals(k.kid) && Arrays.equals(privateKey, k.privateKey) && Arrays.equals(x, k.x)
                && createdAt.equals(k.createdAt) && signsFrom.equals(k.signsFrom) && Objects.equals(retiredAt, k.retiredAt) && Objects.equals(publishedUntil, k.publishedUntil);
    }

    @Override
    public int hashCode() {
        return kid.hashCode();
    }

    @Override
    public String toString() {
        return "SigningKey[kid=" + kid + ", createdAt=" + createdAt + ", signsFrom=" + signsFrom
                + (retiredAt == null ? ", not retired" : ", retiredAt=" + retiredAt + ", publishedUntil=" + publishedUntil) + ", privateKey=<redacted>]";
    }
}
