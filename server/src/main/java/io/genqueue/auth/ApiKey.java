package io.genqueue.auth;

import java.time.Instant;

/** What is known of a key without its secret: its public id, tenant and life. */
public record ApiKey(String keyId, String tenant, Instant createdAt, Instant revokedAt) {

    public boolean revoked() {
        return revokedAt != null;
    }
}
