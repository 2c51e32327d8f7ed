package io.genqueue.auth;

import java.time.Instant;

/**
 * What is known of a key without its secret: its public id, tenant, life, limits, and whether it
 * is an admin key.
 */
public record ApiKey(String keyId, String tenant, Instant createdAt, Instant revokedAt, KeyLimits limits, boolean admin) {

    public ApiKey {
        limits = limits == null ? KeyLimits.NONE : limits;
    }

    public boolean revoked() {
        return revokedAt != null;
    }
}
