package io.genqueue.auth;

import java.util.List;
import java.util.Optional;

/**
 * Where API keys are kept, as digests only. Implementations sit beside the job stores (SQLite and
 * PostgreSQL) so that one database holds a deployment's whole state.
 */
public interface KeyStore {

    /** Makes a key for {@code tenant}; the secret is in the result and nowhere else. */
    NewKey create(String tenant, KeyLimits limits, boolean admin);

    /** Makes a key for {@code tenant} without limits. */
    default NewKey create(String tenant) {
        return create(tenant, KeyLimits.NONE, false);
    }

    /**
     * Makes the deployment's first key, unless a key (revoked or not) exists already: of several
     * processes starting together on an empty store, exactly one makes it.
     */
    Optional<NewKey> createFirst(String tenant);

    List<ApiKey> list();

    /**
     * Changes a key's limits or admin flag. Servers see the change as they see a revocation (the
     * next request on SQLite; within milliseconds, at worst one poll interval, on PostgreSQL).
     * Empty when no such key exists.
     */
    Optional<ApiKey> update(String keyId, KeyChange change);

    /** Revokes a key by its public id. False when no such key exists. */
    boolean revoke(String keyId);

    /** The key presented, if it exists and is not revoked. */
    Optional<ApiKey> authenticate(String presentedKey);

    /** The tenant of a presented key, if the key exists and is not revoked. */
    default Optional<String> tenantOf(String presentedKey) {
        return authenticate(presentedKey).map(ApiKey::tenant);
    }
}
