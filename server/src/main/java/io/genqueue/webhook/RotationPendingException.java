package io.genqueue.webhook;

import java.time.Instant;

/** A rotation asked for while the key an earlier one published ahead has not started signing. */
public final class RotationPendingException extends RuntimeException {

    public RotationPendingException(String kid, Instant signsFrom) {
        super("a rotation is under way: key " + kid + " is published and starts signing at " + signsFrom
                + "; wait until then, or rotate with a lead of 0s to replace every key at once (after a leak)");
    }
}
