package io.genqueue.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.json.Json;
import io.genqueue.testing.SettableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link SigningKeyStore} must do. A backend's test says how to open a store on the
 * test's database, which is empty when the test starts; each opening stands for another process
 * (its own connections). The lead and the grace period are tested by stepping the clock, never by sleeping.
 */
public abstract class SigningKeyStoreContract {

    protected static final Duration GRACE = Duration.ofHours(24);
    protected static final Duration LEAD = Duration.ofHours(24);
    /** A rotation's lead of zero: the new key signs at once. */
    protected static final Duration AT_ONCE = Duration.ZERO;
    private static final byte[] BODY = "{\"status\":\"OK\"}".getBytes(StandardCharsets.UTF_8);

    protected final SettableClock clock = new SettableClock();
    private final List<AutoCloseable> opened = new CopyOnWriteArrayList<>();

    /** Opens another store on the test's database, reading time from {@code clock}. */
    protected abstract SigningKeyStore open(SettableClock clock);

    /** An opening closed after the test. */
    protected SigningKeyStore opening() {
        SigningKeyStore store = open(clock);
        if (store instanceof AutoCloseable c) {
            opened.add(c);
        }
        return store;
    }

    @AfterEach
    void closeOpenings() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private long nowSeconds() {
        return clock.instant().getEpochSecond();
    }

    /** What a receiver that fetched the JWKS now would accept. */
    private static FalReceiver receiverOf(List<SigningKey> published) {
        return FalReceiver.trusting(Json.writeString(Jwks.document(published)));
    }

    private Map<String, String> signedBy(SigningKey key) {
        return new WebhookSigner(key).headers("req_1", "acme", nowSeconds(), BODY);
    }

    @Test
    void the_first_use_makes_one_key_and_every_later_use_gets_the_same() {
        SigningKeyStore store = opening();
        assertThat(store.list()).isEmpty();
        SigningKey key = store.active();
        assertThat(key.retired()).isFalse();
        assertThat(key.createdAt()).isEqualTo(clock.instant());
        assertThat(store.active()).isEqualTo(key);
        assertThat(store.list()).containsExactly(key);
        assertThat(store.published()).containsExactly(key);
        assertThat(receiverOf(store.published()).accepts(signedBy(store.active()), BODY, nowSeconds()))
                .as("the private key read back signs for the public key read back").isTrue();
        String jwks = Json.writeString(Jwks.document(store.published()));
        assertThat(jwks).doesNotContain(Base64.getEncoder().encodeToString(key.privateKey()))
                .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(key.privateKey()));
    }

    @Test
    void the_jwks_of_an_empty_store_makes_the_first_key() {
        SigningKeyStore store = opening();
        List<SigningKey> published = store.published();
        assertThat(published).hasSize(1);
        assertThat(store.active()).isEqualTo(published.get(0));
    }

    @Test
    void a_second_opening_of_the_database_signs_with_the_same_key() {
        SigningKey first = opening().active();
        SigningKeyStore other = opening();
        assertThat(other.active()).isEqualTo(first);
        assertThat(new WebhookSigner(other.active()).signature("req_1", "acme", 1, BODY))
                .isEqualTo(new WebhookSigner(first).signature("req_1", "acme", 1, BODY));
    }

    @Test
    void openings_asking_together_on_an_empty_database_agree_on_one_key() throws Exception {
        int processes = 6;
        List<SigningKeyStore> stores = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            stores.add(opening());
        }
        CyclicBarrier start = new CyclicBarrier(processes);
        List<Future<SigningKey>> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(processes)) {
            for (SigningKeyStore store : stores) {
                answers.add(pool.submit(() -> {
                    start.await();
                    return store.active();
                }));
            }
            Set<String> kids = new HashSet<>();
            for (Future<SigningKey> answer : answers) {
                kids.add(answer.get().kid());
            }
            assertThat(kids).hasSize(1);
        }
        assertThat(stores.get(0).list()).hasSize(1);
    }

    @Test
    void a_rotation_publishes_old_and_new_until_the_grace_period_ends() {
        SigningKeyStore store = opening();
        SigningKey old = store.active();
        Map<String, String> signedByOld = signedBy(old);
        clock.advance(Duration.ofHours(1));
        Instant rotatedAt = clock.instant();
        SigningKey next = store.rotate(AT_ONCE, GRACE);

        assertThat(next.kid()).isNotEqualTo(old.kid());
        assertThat(next.retired()).isFalse();
        assertThat(store.active()).isEqualTo(next);
        assertThat(store.list()).extracting(SigningKey::kid, SigningKey::retiredAt, SigningKey::publishedUntil)
                .containsExactly(Tuple.tuple(next.kid(), null, null), Tuple.tuple(old.kid(), rotatedAt, rotatedAt.plus(GRACE)));
        assertThat(store.published()).extracting(SigningKey::kid).containsExactly(next.kid(), old.kid());
        assertThat(receiverOf(store.published()).accepts(signedBy(store.active()), BODY, nowSeconds())).isTrue();

        clock.advance(GRACE.minusMillis(1));
        assertThat(store.published()).extracting(SigningKey::kid).containsExactly(next.kid(), old.kid());
        clock.advance(Duration.ofMillis(1));
        assertThat(store.published()).extracting(SigningKey::kid).containsExactly(next.kid());
        assertThat(receiverOf(store.published()).accepts(signedByOld, BODY, Long.parseLong(signedByOld.get(WebhookSigner.TIMESTAMP))))
                .as("the old key's signature, received when it was made, against the JWKS after the grace").isFalse();
        assertThat(store.list()).as("retired keys are kept").hasSize(2);
    }

    @Test
    void a_signature_by_the_old_key_verifies_with_the_jwks_of_the_grace_period_and_not_after() {
        SigningKeyStore store = opening();
        SigningKey old = store.active();
        store.rotate(AT_ONCE, GRACE);
        long signedAt = nowSeconds();
        Map<String, String> signedByOld = signedBy(old);
        assertThat(receiverOf(store.published()).accepts(signedByOld, BODY, signedAt)).isTrue();
        clock.advance(GRACE);
        assertThat(receiverOf(store.published()).accepts(signedByOld, BODY, signedAt)).isFalse();
    }

    @Test
    void with_no_grace_the_old_key_leaves_the_jwks_at_the_rotation() {
        SigningKeyStore store = opening();
        store.active();
        SigningKey next = store.rotate(AT_ONCE, Duration.ZERO);
        assertThat(store.published()).containsExactly(next);
    }

    @Test
    void each_retired_key_keeps_the_grace_its_rotation_gave_it() {
        SigningKeyStore store = opening();
        SigningKey first = store.active();
        SigningKey second = store.rotate(AT_ONCE, Duration.ofHours(1));
        clock.advance(Duration.ofMinutes(10));
        SigningKey third = store.rotate(AT_ONCE, Duration.ofHours(48));
        assertThat(store.published()).extracting(SigningKey::kid).containsExactly(third.kid(), second.kid(), first.kid());
        clock.advance(Duration.ofMinutes(50));
        assertThat(store.published()).as("the first's hour is up, measured from its own rotation")
                .extracting(SigningKey::kid).containsExactly(third.kid(), second.kid());
        clock.advance(Duration.ofHours(47).plusMinutes(10));
        assertThat(store.published()).extracting(SigningKey::kid).containsExactly(third.kid());
    }

    @Test
    void a_rotation_by_one_process_is_seen_by_the_next_call_of_another() {
        SigningKeyStore server = opening();
        SigningKey old = server.active();
        SigningKey next = opening().rotate(AT_ONCE, GRACE);
        assertThat(server.active()).isEqualTo(next);
        assertThat(server.published()).extracting(SigningKey::kid).containsExactly(next.kid(), old.kid());
    }

    @Test
    void a_rotation_before_any_key_exists_makes_the_first() {
        SigningKeyStore store = opening();
        SigningKey made = store.rotate(AT_ONCE, GRACE);
        assertThat(store.list()).containsExactly(made);
        assertThat(store.active()).isEqualTo(made);
    }

    @Test
    void rotations_from_many_processes_at_once_each_take_effect_and_leave_one_active_key() throws Exception {
        int processes = 4;
        int each = 5;
        List<SigningKeyStore> stores = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            stores.add(opening());
        }
        SigningKey first = stores.get(0).active();
        CyclicBarrier start = new CyclicBarrier(processes);
        List<Future<List<SigningKey>>> made = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(processes)) {
            for (SigningKeyStore store : stores) {
                made.add(pool.submit(() -> {
                    start.await();
                    List<SigningKey> mine = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        mine.add(store.rotate(AT_ONCE, GRACE));
                        clock.advance(Duration.ofMillis(1));
                    }
                    return mine;
                }));
            }
            Set<String> rotated = new HashSet<>();
            for (Future<List<SigningKey>> f : made) {
                f.get().forEach(k -> rotated.add(k.kid()));
            }
            List<SigningKey> all = stores.get(0).list();
            assertThat(all).hasSize(1 + processes * each);
            assertThat(all.stream().filter(k -> !k.retired()).toList()).singleElement()
                    .satisfies(active -> assertThat(rotated).contains(active.kid()));
            assertThat(all.stream().map(SigningKey::kid).collect(Collectors.toSet())).containsAll(rotated).contains(first.kid());
        }
    }

    @Test
    void a_rotation_with_a_lead_publishes_the_next_key_at_once_and_signs_with_it_only_after_the_lead() {
        SigningKeyStore store = opening();
        SigningKey old = store.active();
        clock.advance(Duration.ofHours(1));
        Instant rotatedAt = clock.instant();
        SigningKey next = store.rotate(LEAD, GRACE);
        FalReceiver cachedAtRotation = receiverOf(store.published());

        assertThat(next.signsFrom()).isEqualTo(rotatedAt.plus(LEAD));
        assertThat(store.active().kid()).as("the current key signs through the lead").isEqualTo(old.kid());
        assertThat(store.published()).extracting(SigningKey::kid).containsExactly(next.kid(), old.kid());
        clock.advance(LEAD.minusMillis(1));
        assertThat(store.active().kid()).isEqualTo(old.kid());
        clock.advance(Duration.ofMillis(1));
        assertThat(store.active()).as("the next key signs once the lead is over").isEqualTo(next);
        assertThat(cachedAtRotation.accepts(signedBy(store.active()), BODY, nowSeconds()))
                .as("a receiver that cached the JWKS at the rotation verifies the next key's first signature").isTrue();

        clock.advance(GRACE.minusMillis(1));
        assertThat(store.published()).as("the grace is counted from the old key's last signature")
                .extracting(SigningKey::kid).containsExactly(next.kid(), old.kid());
        clock.advance(Duration.ofMillis(1));
        assertThat(store.published()).extracting(SigningKey::kid).containsExactly(next.kid());
    }

    @Test
    void a_second_rotation_during_a_lead_is_refused_and_one_at_once_replaces_every_key() {
        SigningKeyStore store = opening();
        SigningKey old = store.active();
        SigningKey ahead = store.rotate(LEAD, GRACE);
        clock.advance(Duration.ofHours(1));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.rotate(LEAD, GRACE))
                .isInstanceOf(RotationPendingException.class).hasMessageContaining(ahead.kid());
        assertThat(store.list()).hasSize(2);

        SigningKey replacement = store.rotate(AT_ONCE, Duration.ZERO); // after a leak
        assertThat(store.active()).isEqualTo(replacement);
        assertThat(store.published()).containsExactly(replacement);
        clock.advance(LEAD);
        assertThat(store.active()).as("the key published ahead never signs").isEqualTo(replacement);
        assertThat(store.list()).extracting(SigningKey::kid).contains(old.kid(), ahead.kid());
    }

    @Test
    void of_rotations_with_a_lead_from_many_processes_at_once_exactly_one_takes_effect() throws Exception {
        int processes = 6;
        List<SigningKeyStore> stores = new ArrayList<>();
        for (int i = 0; i < processes; i++) {
            stores.add(opening());
        }
        SigningKey old = stores.get(0).active();
        CyclicBarrier start = new CyclicBarrier(processes);
        List<Future<SigningKey>> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(processes)) {
            for (SigningKeyStore store : stores) {
                answers.add(pool.submit(() -> {
                    start.await();
                    try {
                        return store.rotate(LEAD, GRACE);
                    } catch (RotationPendingException refused) {
                        return null;
                    }
                }));
            }
            List<SigningKey> made = new ArrayList<>();
            for (Future<SigningKey> answer : answers) {
                if (answer.get() != null) {
                    made.add(answer.get());
                }
            }
            assertThat(made).hasSize(1);
            assertThat(stores.get(0).list()).extracting(SigningKey::kid).containsExactly(made.get(0).kid(), old.kid());
            assertThat(stores.get(1).active().kid()).isEqualTo(old.kid());
        }
    }
}
