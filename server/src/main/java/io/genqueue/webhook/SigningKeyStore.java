package io.genqueue.webhook;

import java.time.Duration;
import java.util.List;

/**
 * Where the webhook signing keys are kept: beside the job store, so that every process of a
 * PostgreSQL deployment signs with the same key and publishes the same JWKS. Exactly one key
 * signs at any moment. A rotation publishes the next key at once and lets it sign only after a
 * lead (receivers that cache the JWKS fetch it in that time), while the current key signs until
 * then; at most one key has no end named (the database holds it to that with a unique index).
 * Retired keys are kept, and published for the grace period their rotation gave them. Every
 * instant is stored with the key, so every process agrees on them whatever its own settings, and
 * a rotation after a leak can replace and withdraw the old key at once (a lead and a grace of zero)
 * without restarting anything.
 *
 * <p>No implementation caches: each call reads the store, so a rotation by any process (the
 * command line included) is seen by the next call everywhere.
 */
public interface SigningKeyStore {

    /**
     * The key to sign with now ({@link SigningKey#signsAt}). The first call on a store without keys
     * makes one that signs at once: of several processes doing so at once, exactly one key is made
     * and all of them get it.
     */
    SigningKey active();

    /**
     * Makes the next key, published now and signing from {@code lead} on, and retires every key
     * still signing then as of that moment, published for {@code grace} more, in one transaction;
     * returns the new key. Rotations from several processes at once take effect one after another.
     *
     * @throws RotationPendingException when a key published ahead has not started signing yet and
     *     {@code lead} is not zero (a zero lead replaces it too, at once: the rotation after a leak)
     */
    SigningKey rotate(Duration lead, Duration grace);

    /** Every key, the active one first, then the retired ones, latest retirement first. */
    List<SigningKey> list();

    /**
     * The keys the JWKS shows now: the active key (made first if there is none, as by
     * {@link #active()}), the next one if a rotation published it ahead, and the retired ones still in their grace period
     * ({@link SigningKey#publishedAt}), in {@link #list()}'s order. Only their public parts may
     * leave the process.
     */
    List<SigningKey> published();
}
