package io.genqueue.webhook;

import java.time.Duration;
import java.util.List;

/**
 * Where the webhook signing keys are kept: beside the job store, so that every process of a
 * PostgreSQL deployment signs with the same key and publishes the same JWKS. Exactly one key is
 * active at a time (the database holds it to that with a unique index); retired keys are kept,
 * and published for the grace period their rotation gave them. The end of that period is stored
 * with the key, so every process agrees on it whatever its own settings, and a rotation after a
 * leak can withdraw the old key at once (a grace of zero) without restarting anything.
 *
 * <p>No implementation caches: each call reads the store, so a rotation by any process (the
 * command line included) is seen by the next call everywhere.
 */
public interface SigningKeyStore {

    /**
     * The key to sign with now. The first call on a store without an active key makes one: of
     * several processes doing so at once, exactly one key is made and all of them get it.
     */
    SigningKey active();

    /**
     * Makes a new active key and retires the current one as of now, published for {@code grace}
     * more, in one transaction; returns the new key. Rotations from several processes at once each
     * take effect, one after another.
     */
    SigningKey rotate(Duration grace);

    /** Every key, the active one first, then the retired ones, latest retirement first. */
    List<SigningKey> list();

    /**
     * The keys the JWKS shows now: the active key (made first if there is none, as by
     * {@link #active()}) and the retired ones still in their grace period
     * ({@link SigningKey#publishedAt}), in {@link #list()}'s order. Only their public parts may
     * leave the process.
     */
    List<SigningKey> published();
}
