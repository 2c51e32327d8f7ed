package io.genqueue.provider.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.emulator.EmulatorImages;
import io.genqueue.generation.ErrorType;
import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageProbe;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.Backoff;
import io.genqueue.provider.CallContext;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import io.genqueue.provider.ImageProvider;
import io.genqueue.provider.ProviderException;
import io.genqueue.provider.ProviderHealth;
import io.genqueue.testing.Eventually;
import io.genqueue.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The router over scripted providers: fallback, retries and their delays, the breaker, the cap, cancel. */
class ProviderRouterTest {

    private static final ImageData IMAGE = ImageProbe.verify(EmulatorImages.render(8, 8, "x", 0, OutputFormat.PNG), 1 << 20);

    private final SettableClock clock = new SettableClock(Instant.parse("2026-11-25T00:00:00Z"));
    private final List<Duration> slept = Collections.synchronizedList(new ArrayList<>());
    private final Log log = new Log();

    /** A provider that answers from a script of outcomes, one per call, then succeeds. */
    private static final class Scripted implements ImageProvider {
        final String name;
        final Deque<ProviderException> failures = new ArrayDeque<>();
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        volatile Duration work = Duration.ZERO;

        Scripted(String name, ProviderException... failures) {
            this.name = name;
            this.failures.addAll(List.of(failures));
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Set<OutputFormat> outputFormats() {
            return Set.of(OutputFormat.PNG);
        }

        @Override
        public GenerationResult generate(GenerationRequest request) throws InterruptedException {
            calls.incrementAndGet();
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            try {
                if (!work.isZero()) {
                    Thread.sleep(work.toMillis());
                }
                ProviderException next;
                synchronized (failures) {
                    next = failures.poll();
                }
                if (next != null) {
                    throw next;
                }
                return new GenerationResult(List.of(IMAGE), "by " + name);
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }

    /** The job's log as the router writes it. */
    private static final class Log implements CallContext {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void info(String message) {
            lines.add(message);
        }

        @Override
        public void warn(String message) {
            lines.add(message);
        }

        @Override
        public Optional<String> upstream() {
            return Optional.empty();
        }

        @Override
        public void saveUpstream(String reference) {
        }
    }

    private static ProviderException overloaded() {
        return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, "503 UNAVAILABLE", null, null);
    }

    private static ProviderException rateLimited(Duration after) {
        return ProviderException.retryable(ErrorType.PROVIDER_UNAVAILABLE, "429 RESOURCE_EXHAUSTED", after, null);
    }

    /** A router whose breakers open once 2 of the last 4 calls (at least 2) failed. */
    private ProviderRouter router(int concurrency, int retries, Duration maxWait, ImageProvider... providers) {
        return router(2, concurrency, retries, maxWait, providers);
    }

    private ProviderRouter router(int breakerMinCalls, int concurrency, int retries, Duration maxWait, ImageProvider... providers) {
        ProviderRouter.Limits limits = new ProviderRouter.Limits(concurrency, retries,
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(60)), maxWait,
                new ProviderRouter.Breaker(4, breakerMinCalls, 0.5, Duration.ofSeconds(30)));
        return new ProviderRouter(List.of(providers), limits, clock, slept::add);
    }

    private GenerationRequest request() {
        return new GenerationRequest("req_1", "a cat", List.of(), AspectRatio.R1_1, OutputFormat.PNG, 1, true, null, log);
    }

    @Test
    void a_retryable_failure_is_retried_then_falls_back_to_the_next_provider_in_order() throws Exception {
        Scripted first = new Scripted("gemini", overloaded(), overloaded(), overloaded());
        Scripted second = new Scripted("openrouter");
        Scripted third = new Scripted("fal");
        GenerationResult result = router(4, 4, 2, Duration.ofSeconds(30), first, second, third).generate(request());

        assertThat(result.provider()).isEqualTo("openrouter");
        assertThat(first.calls).hasValue(3);
        assertThat(second.calls).hasValue(1);
        assertThat(third.calls).hasValue(0);
        assertThat(slept).hasSize(2);
        assertThat(log.lines).hasSize(3);
        assertThat(log.lines.get(0)).startsWith("gemini: 503 UNAVAILABLE, retrying in ");
        assertThat(log.lines.get(2)).isEqualTo("gemini: 503 UNAVAILABLE; falling back to openrouter.");
    }

    @Test
    void a_failure_that_opens_the_circuit_is_not_retried_on_that_provider() throws Exception {
        Scripted gemini = new Scripted("gemini", overloaded(), overloaded(), overloaded());
        Scripted fal = new Scripted("fal");
        assertThat(router(4, 5, Duration.ofSeconds(30), gemini, fal).generate(request()).provider()).isEqualTo("fal");
        assertThat(gemini.calls).as("two failures of two calls open it").hasValue(2);
    }

    @Test
    void the_providers_own_delay_is_honoured() throws Exception {
        Scripted gemini = new Scripted("gemini", rateLimited(Duration.ofMillis(7500)));
        router(4, 2, Duration.ofSeconds(30), gemini).generate(request());

        assertThat(slept).hasSize(1);
        assertThat(slept.get(0)).isGreaterThanOrEqualTo(Duration.ofMillis(7500));
        assertThat(log.lines).containsExactly("gemini: 429 RESOURCE_EXHAUSTED, retrying in 7.5 s.");
    }

    @Test
    void a_delay_longer_than_a_slot_is_held_falls_back_at_once_and_the_last_failure_keeps_the_delay() {
        Scripted gemini = new Scripted("gemini", rateLimited(Duration.ofSeconds(90)));
        Scripted fal = new Scripted("fal", rateLimited(Duration.ofSeconds(120)));
        ProviderRouter router = router(4, 2, Duration.ofSeconds(30), gemini, fal);

        assertThatThrownBy(() -> router.generate(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).isEqualTo("fal: 429 RESOURCE_EXHAUSTED");
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(120));
        });
        assertThat(slept).isEmpty();
        assertThat(gemini.calls).hasValue(1);
        assertThat(fal.calls).hasValue(1);
    }

    @Test
    void a_content_policy_refusal_neither_retries_nor_falls_back() {
        Scripted gemini = new Scripted("gemini", ProviderException.fatal(ErrorType.CONTENT_POLICY_VIOLATION, "blocked: SAFETY"));
        Scripted fal = new Scripted("fal");
        ProviderRouter router = router(4, 2, Duration.ofSeconds(30), gemini, fal);

        assertThatThrownBy(() -> router.generate(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.type()).isEqualTo(ErrorType.CONTENT_POLICY_VIOLATION);
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).isEqualTo("gemini: blocked: SAFETY");
        });
        assertThat(gemini.calls).hasValue(1);
        assertThat(fal.calls).hasValue(0);
    }

    @Test
    void a_bad_key_is_not_retried_but_falls_back() throws Exception {
        Scripted gemini = new Scripted("gemini", ProviderException.fatal(ErrorType.PROVIDER_ERROR, "400 API_KEY_INVALID"));
        Scripted fal = new Scripted("fal");
        assertThat(router(4, 2, Duration.ofSeconds(30), gemini, fal).generate(request()).provider()).isEqualTo("fal");
        assertThat(gemini.calls).hasValue(1);
        assertThat(log.lines).containsExactly("gemini: 400 API_KEY_INVALID; falling back to fal.");
    }

    @Test
    void the_breaker_opens_on_failures_skips_the_provider_and_closes_after_a_successful_probe() throws Exception {
        Scripted gemini = new Scripted("gemini", overloaded(), overloaded(), overloaded(), overloaded());
        Scripted fal = new Scripted("fal");
        ProviderRouter router = router(4, 0, Duration.ofSeconds(30), gemini, fal);

        router.generate(request());
        router.generate(request()); // two failures of two calls: 100 % >= 50 %, at least 2 calls: open
        assertThat(router.health().get(0)).extracting(ProviderHealth::state, ProviderHealth::healthy)
                .containsExactly("open", false);

        router.generate(request());
        assertThat(gemini.calls).as("an open circuit is skipped").hasValue(2);

        clock.advance(Duration.ofSeconds(31));
        assertThat(router.health().get(0).state()).isEqualTo("half_open");
        router.generate(request()); // the probe fails: open again
        assertThat(gemini.calls).hasValue(3);
        assertThat(router.health().get(0).state()).isEqualTo("open");

        clock.advance(Duration.ofSeconds(31));
        router.generate(request()); // the probe fails again (the script's last failure)
        clock.advance(Duration.ofSeconds(31));
        GenerationResult recovered = router.generate(request());
        assertThat(recovered.provider()).isEqualTo("gemini");
        assertThat(router.health().get(0).state()).isEqualTo("closed");
    }

    @Test
    void with_every_circuit_open_the_job_goes_back_to_wait_until_the_first_probe() throws Exception {
        Scripted gemini = new Scripted("gemini", overloaded(), overloaded());
        ProviderRouter router = router(4, 0, Duration.ofSeconds(30), gemini);
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> router.generate(request())).isInstanceOf(ProviderException.class);
        }
        clock.advance(Duration.ofSeconds(10));
        assertThat(router.downFor()).as("the dispatcher claims nothing meanwhile").isEqualTo(Duration.ofSeconds(20));
        assertThatThrownBy(() -> router.generate(request())).isInstanceOfSatisfying(ProviderException.class, e -> {
            assertThat(e.retryable()).isTrue();
            assertThat(e.type()).isEqualTo(ErrorType.PROVIDER_UNAVAILABLE);
            assertThat(e.getMessage()).contains("gemini open");
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(20));
        });
        assertThat(gemini.calls).hasValue(2);
    }

    @Test
    void the_concurrency_cap_is_never_exceeded_under_load() throws Exception {
        Scripted gemini = new Scripted("gemini");
        Scripted fal = new Scripted("fal");
        gemini.work = Duration.ofMillis(2);
        fal.work = Duration.ofMillis(2);
        ProviderRouter router = router(3, 0, Duration.ofSeconds(30), gemini, fal);
        int calls = 600;
        try (ExecutorService pool = Executors.newFixedThreadPool(48)) {
            List<Future<GenerationResult>> results = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                results.add(pool.submit(() -> router.generate(request())));
            }
            for (Future<GenerationResult> f : results) {
                assertThat(f.get(30, TimeUnit.SECONDS).images()).hasSize(1);
            }
        }
        assertThat(gemini.calls.get() + fal.calls.get()).isEqualTo(calls);
        assertThat(gemini.maxInFlight.get()).isLessThanOrEqualTo(3);
        assertThat(fal.maxInFlight.get()).isLessThanOrEqualTo(3);
        assertThat(fal.calls.get()).as("the overflow went to the second provider").isPositive();
        assertThat(router.health()).allSatisfy(h -> assertThat(h.inFlight()).isZero());
    }

    @Test
    void a_cancel_aborts_the_call_in_flight_and_a_wait_for_a_slot_and_frees_the_slot() throws Exception {
        Scripted gemini = new Scripted("gemini");
        gemini.work = Duration.ofMinutes(10);
        ProviderRouter router = router(1, 0, Duration.ofSeconds(30), gemini);
        AtomicReference<Throwable> inCall = new AtomicReference<>();
        AtomicReference<Throwable> waiting = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(2);
        Thread calling = Thread.ofVirtual().start(() -> {
            try {
                router.generate(request());
            } catch (Throwable t) {
                inCall.set(t);
            }
            ended.countDown();
        });
        Eventually.until(Duration.ofSeconds(10), "the first call in flight", () -> gemini.inFlight.get() > 0);
        Thread queued = Thread.ofVirtual().start(() -> {
            try {
                router.generate(request());
            } catch (Throwable t) {
                waiting.set(t);
            }
            ended.countDown();
        });
        calling.interrupt();
        queued.interrupt();
        assertThat(ended.await(1, TimeUnit.SECONDS)).isTrue();
        assertThat(inCall.get()).isInstanceOf(InterruptedException.class);
        assertThat(waiting.get()).isInstanceOf(InterruptedException.class);
        assertThat(router.health().get(0).inFlight()).isZero();
        assertThat(router.health().get(0).state()).as("a cancel says nothing about the provider").isEqualTo("closed");
    }
}
