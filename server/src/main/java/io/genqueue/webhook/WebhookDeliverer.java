package io.genqueue.webhook;

import io.genqueue.fetch.Delivery;
import io.genqueue.fetch.InvalidWebhookUrlException;
import io.genqueue.fetch.WebhookPoster;
import io.genqueue.fetch.WebhookTarget;
import io.genqueue.image.Units;
import io.genqueue.metrics.WebhookMeters;
import io.genqueue.queue.JobListener;
import io.genqueue.queue.LogEntry;
import io.genqueue.queue.WakeSignal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the outbox's webhooks: one loop per process claims due deliveries and runs each
 * attempt on a virtual thread, at most {@link Settings#concurrency} at once. An attempt renders
 * the payload as {@code GET .../response} would answer now, signs it with the active key, POSTs it
 * ({@link WebhookPoster}: addresses checked at each attempt, no redirects) and records the outcome
 * with its log line: any 2xx is delivered; anything else is retried ({@link Retries}) until the
 * last try, then given up. A 4xx is retried too: a receiver that answers 404 or 400 is more often
 * a bad deploy than a permanent refusal.
 *
 * <p>The loop wakes when a job changes (a request may have ended with a webhook, committed with
 * its delivery) and otherwise when the next delivery is due, looking at least every
 * {@link #MAX_IDLE} for deliveries whose lease lapsed in a dead process. At least once: an attempt
 * whose process dies is claimed again when its lease ({@link #lease}) runs out, so a receiver may
 * see a delivery twice, with the same {@code X-Fal-Webhook-Request-Id}.
 */
public final class WebhookDeliverer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WebhookDeliverer.class);

    static final Duration MAX_IDLE = Duration.ofSeconds(2);
    private static final int MAX_BATCH = 32;

    /**
     * @param retries when failed attempts are tried again
     * @param attemptTimeout the bound of one attempt (connect and read), within its lease
     * @param concurrency attempts in flight at once
     */
    public record Settings(Retries retries, Duration attemptTimeout, int concurrency) {
    }

    private final WebhookOutbox outbox;
    private final SigningKeyStore keys;
    private final WebhookPoster poster;
    private final Function<WebhookOutbox.Claim, WebhookBody.Response> responses;
    private final Clock clock;
    private final Settings settings;
    private final WebhookMeters meters;
    private final WakeSignal wake = new WakeSignal();
    private final Semaphore slots;
    private final ExecutorService attempts = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("webhook-", 0).factory());
    private volatile Thread loop;
    private volatile boolean closed;
    private volatile WebhookSigner signer;

    /**
     * @param responses what {@code GET .../response} answers now for a claimed delivery's request
     * @param meters hears each attempt's recorded outcome
     */
    public WebhookDeliverer(WebhookOutbox outbox, SigningKeyStore keys, WebhookPoster poster,
            Function<WebhookOutbox.Claim, WebhookBody.Response> responses, Clock clock, Settings settings, WebhookMeters meters) {
        this.meters = meters;
        this.outbox = outbox;
        this.keys = keys;
        this.poster = poster;
        this.responses = responses;
        this.clock = clock;
        this.settings = settings;
        this.slots = new Semaphore(settings.concurrency());
    }

    /** Hears the store's changes: a request that ended may owe a delivery now. */
    public JobListener listener() {
        return new JobListener() {
            @Override
            public void jobChanged(String jobId) {
                wake.wake();
            }
        };
    }

    public void start() {
        loop = Thread.ofPlatform().name("webhook-deliveries").daemon().start(this::run);
    }

    /** A claim's lease: the attempt's bound, and time to record it. */
    private Duration lease() {
        return settings.attemptTimeout().multipliedBy(2).plusSeconds(10);
    }

    private void run() {
        while (!closed) {
            try {
                int free = slots.availablePermits();
                if (free == 0) {
                    wake.await(MAX_IDLE); // woken when an attempt ends
                    continue;
                }
                Duration untilDue = untilNextDue(); // a read: claiming is a write, and most wakes find nothing due
                if (untilDue.isPositive()) {
                    wake.await(untilDue);
                    continue;
                }
                List<WebhookOutbox.Claim> claims = outbox.claim(Math.min(free, MAX_BATCH), lease());
                for (WebhookOutbox.Claim claim : claims) {
                    slots.acquire();
                    attempts.execute(() -> {
                        try {
                            attempt(claim);
                        } catch (RuntimeException e) {
                            log.warn("webhook delivery of {}: its outcome could not be recorded ({}); it is due again "
                                    + "when its lease runs out", claim.jobId(), e.getMessage());
                        } finally {
                            slots.release();
                            wake.wake();
                        }
                    });
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("webhook deliveries: the outbox could not be read ({}); trying again in {}", e.getMessage(),
                        Units.duration(MAX_IDLE));
                sleepQuietly();
            }
        }
    }

    /** Until the next delivery is due, at most {@link #MAX_IDLE}. */
    private Duration untilNextDue() {
        Optional<Instant> next = outbox.nextDue();
        if (next.isEmpty()) {
            return MAX_IDLE;
        }
        Duration wait = Duration.between(clock.instant(), next.get());
        return wait.isNegative() ? Duration.ZERO : wait.compareTo(MAX_IDLE) > 0 ? MAX_IDLE : wait;
    }

    private void sleepQuietly() {
        try {
            wake.await(MAX_IDLE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One attempt, and its record. Throws only when the record cannot be written (the store is
     * down): the delivery is then due again when its lease runs out.
     */
    void attempt(WebhookOutbox.Claim claim) {
        WebhookTarget target;
        byte[] body;
        Map<String, String> headers;
        try {
            target = poster.check(claim.url());
        } catch (InvalidWebhookUrlException e) {
            failed(claim, "webhook URL", e.getMessage());
            return;
        }
        try {
            body = WebhookBody.of(claim.jobId(), responses.apply(claim));
            headers = signer().headers(claim.jobId(), claim.tenant(), clock.instant().getEpochSecond(), body);
        } catch (RuntimeException e) {
            log.warn("webhook delivery of {} could not be prepared: {}", claim.jobId(), e.toString());
            failed(claim, target.host(), "could not be prepared (" + e.getClass().getSimpleName() + ")");
            return;
        }
        Delivery delivery;
        try {
            delivery = poster.post(target, headers, body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // shutting down: left to its lease
            return;
        }
        switch (delivery) {
            case Delivery.Answered a when a.delivered() -> {
                outbox.delivered(claim, LogEntry.info(clock.instant(),
                        "Webhook delivered to " + target.host() + ": " + a.status() + " in " + a.took().toMillis() + " ms."));
                meters.delivered();
            }
            case Delivery.Answered a -> failed(claim, target.host(), String.valueOf(a.status()));
            case Delivery.Failed f -> failed(claim, target.host(), f.reason());
            case Delivery.Refused r -> failed(claim, target.host(), r.reason());
        }
    }

    private void failed(WebhookOutbox.Claim claim, String where, String reason) {
        int failed = claim.failedTries() + 1;
        int tries = settings.retries().tries();
        Instant now = clock.instant();
        if (settings.retries().another(failed)) {
            Duration wait = settings.retries().delay(failed);
            outbox.retry(claim, now.plus(wait), LogEntry.warn(now, "Webhook to " + where + " failed: " + reason + "; try "
                    + (failed + 1) + " of " + tries + " in " + Units.duration(wait.truncatedTo(ChronoUnit.MILLIS))
                    + "."));
            meters.retried();
        } else {
            outbox.giveUp(claim, LogEntry.error(now, "Webhook to " + where + " given up after " + tries + " tries (last: "
                    + reason + ")."));
            meters.givenUp();
        }
    }

    /** The signer of the active key; made again only when a rotation changed the key. */
    private WebhookSigner signer() {
        SigningKey active = keys.active();
        WebhookSigner current = signer;
        if (current == null || !current.kid().equals(active.kid())) {
            current = new WebhookSigner(active);
            signer = current;
        }
        return current;
    }

    /** Stops claiming; attempts in flight get their timeout to finish, then are abandoned to their lease. */
    @Override
    public void close() {
        closed = true;
        Thread running = loop;
        if (running != null) {
            running.interrupt();
            try {
                running.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        attempts.shutdown();
        try {
            if (!attempts.awaitTermination(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                attempts.shutdownNow();
            }
        } catch (InterruptedException e) {
            attempts.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
