package io.genqueue.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.testing.Eventually;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The key cache under racing requests and revocations: what a revocation's version promises. */
class KeyCacheTest {

    @Test
    void only_valid_keys_are_remembered_and_a_new_version_forgets_them() {
        KeyCache<String> cache = new KeyCache<>();
        AtomicInteger lookups = new AtomicInteger();
        java.util.function.Function<String, Optional<String>> store = digest -> {
            lookups.incrementAndGet();
            return digest.equals("known") ? Optional.of("acme") : Optional.empty();
        };
        assertThat(cache.find("known", 1, store)).contains("acme");
        assertThat(cache.find("known", 1, store)).contains("acme");
        assertThat(lookups).hasValue(1);
        assertThat(cache.find("unknown", 1, store)).isEmpty();
        assertThat(cache.find("unknown", 1, store)).isEmpty();
        assertThat(lookups).as("unknown keys are looked up every time").hasValue(3);
        assertThat(cache.find("known", 2, store)).contains("acme");
        assertThat(lookups).as("a new version looks again").hasValue(4);
    }

    @Test
    void no_request_that_reads_the_version_after_a_revocation_is_answered_from_before_it() throws Exception {
        KeyCache<String> cache = new KeyCache<>();
        Set<String> revoked = ConcurrentHashMap.newKeySet();
        java.util.function.Function<String, Optional<String>> store = digest -> revoked.contains(digest) ? Optional.empty()
                : Optional.of("acme");
        AtomicLong version = new AtomicLong();
        AtomicInteger cycle = new AtomicInteger();
        ConcurrentHashMap<Integer, Long> revokedAt = new ConcurrentHashMap<>();
        AtomicLong calls = new AtomicLong();
        AtomicLong violations = new AtomicLong();
        AtomicBoolean done = new AtomicBoolean();
        int cycles = 300;
        List<Thread> requests = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            requests.add(Thread.ofPlatform().start(() -> {
                while (!done.get()) {
                    int c = cycle.get();
                    long v = version.get();
                    Optional<String> tenant = cache.find("key-" + c, v, store);
                    Long at = revokedAt.get(c);
                    if (at != null && v >= at && tenant.isPresent()) {
                        violations.incrementAndGet();
                    }
                    calls.incrementAndGet();
                }
            }));
        }
        try {
            for (int c = 0; c < cycles; c++) {
                awaitCalls(calls, 200); // requests fill the cache with this cycle's key
                revoked.add("key-" + c);                 // the revocation commits,
                revokedAt.put(c, version.incrementAndGet()); // then its version is published
                awaitCalls(calls, 200); // requests race the new version
                cycle.incrementAndGet();
            }
        } finally {
            done.set(true);
        }
        for (Thread t : requests) {
            t.join();
        }
        assertThat(violations).as("answers from before a revocation to requests that read its version").hasValue(0);
    }

    /** Waits until the request threads made {@code n} more calls. */
    private static void awaitCalls(AtomicLong calls, int n) {
        long before = calls.get();
        Eventually.until(Duration.ofSeconds(10), n + " more requests", () -> calls.get() >= before + n);
    }
}
