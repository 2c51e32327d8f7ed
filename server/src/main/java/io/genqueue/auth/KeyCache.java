package io.genqueue.auth;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Valid keys' tenants by key digest, as of one version of the key table. What a version is
 * belongs to the key store: SQLite's is the time stamped on a file by every revocation; the
 * PostgreSQL store's changes when another process announces a revocation, and at least once per
 * poll interval. A request that brings another version than the cache's replaces the whole cache,
 * so no request that read a version after a revocation is answered from a cache filled before it;
 * a lookup still running when the cache was replaced puts its answer into the discarded map.
 *
 * <p>Only valid keys are cached (an unknown or revoked key always reaches the store), so a new key
 * works at once, and a revoked key's digest can only sit in a cache of an older version.
 */
public final class KeyCache {

    /** Cached keys beyond this many are looked up each time (the cache is a speed-up, not a store). */
    private static final int LIMIT = 10_000;

    private record Generation(Object version, ConcurrentHashMap<String, String> tenants) {
    }

    private volatile Generation current = new Generation(new Object(), new ConcurrentHashMap<>());

    /**
     * The tenant of the key with {@code digest}: from the cache when it holds {@code version},
     * else from {@code lookup}, whose answer is remembered when it names a tenant.
     */
    public Optional<String> tenant(String digest, Object version, Function<String, Optional<String>> lookup) {
        Generation generation = current;
        if (!Objects.equals(generation.version(), version)) {
            generation = new Generation(version, new ConcurrentHashMap<>());
            current = generation;
        }
        String cached = generation.tenants().get(digest);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<String> tenant = lookup.apply(digest);
        if (tenant.isPresent() && generation.tenants().size() < LIMIT) {
            generation.tenants().put(digest, tenant.get());
        }
        return tenant;
    }
}
