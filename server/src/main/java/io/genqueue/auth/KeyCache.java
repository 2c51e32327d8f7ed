package io.genqueue.auth;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Valid keys (what the key store knows of them: {@code V}) by key digest, as of one version of the key table. What a version is
 * belongs to the key store: SQLite's is the time stamped on a file by every revocation; the
 * PostgreSQL store's changes when another process announces a revocation, and at least once per
 * poll interval. A request that brings another version than the cache's replaces the whole cache,
 * so no request that read a version after a revocation is answered from a cache filled before it;
 * a lookup still running when the cache was replaced puts its answer into the discarded map.
 *
 * <p>Only valid keys are cached (an unknown or revoked key always reaches the store), so a new key
 * works at once, and a revoked key's digest can only sit in a cache of an older version.
 */
public final class KeyCache<V> {

    /** Cached keys beyond this many are looked up each time (the cache is a speed-up, not a store). */
    private static final int LIMIT = 10_000;

    private record Generation<V>(Object version, ConcurrentHashMap<String, V> keys) {
    }

    private volatile Generation<V> current = new Generation<>(new Object(), new ConcurrentHashMap<>());

    /**
     * The key with {@code digest}: from the cache when it holds {@code version}, else from
     * {@code lookup}, whose answer is remembered when it found a valid key.
     */
    public Optional<V> find(String digest, Object version, Function<String, Optional<V>> lookup) {
        Generation<V> generation = current;
        if (!Objects.equals(generation.version(), version)) {
            generation = new Generation<>(version, new ConcurrentHashMap<>());
            current = generation;
        }
        V cached = generation.keys().get(digest);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<V> found = lookup.apply(digest);
        if (found.isPresent() && generation.keys().size() < LIMIT) {
            generation.keys().put(digest, found.get());
        }
        return found;
    }
}
