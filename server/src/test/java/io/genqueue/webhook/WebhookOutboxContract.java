package io.genqueue.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.generation.ErrorType;
import io.genqueue.generation.GenerationInput;
import io.genqueue.queue.CancelOutcome;
import io.genqueue.queue.Claim;
import io.genqueue.queue.Failure;
import io.genqueue.queue.JobResult;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.LogEntry;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.Outcome;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.StoredImage;
import io.genqueue.queue.SubmitOutcome;
import io.genqueue.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link WebhookOutbox} does, with the {@link JobStore} it sits beside: the database
 * owes exactly one delivery for every request with a webhook that ends, by whichever path, and
 * none for one that does not; claims, retries and their ends follow the lease. Time is stepped on
 * a settable clock, never slept.
 */
public abstract class WebhookOutboxContract {

    protected static final Duration LEASE = Duration.ofSeconds(30);
    private static final String URL = "https://receiver.example/hook?token=s3cret";
    private static final String MODEL = "nano_banana";
    private static final String BASE = "https://gen.example";

    protected final SettableClock clock = new SettableClock();
    protected JobStore jobs;
    protected WebhookOutbox outbox;

    /** Opens a job store on an empty database, reading time from {@code clock}. */
    protected abstract JobStore openJobs(SettableClock clock);

    /** The outbox beside {@code jobs}. */
    protected abstract WebhookOutbox outboxBeside(JobStore jobs);

    /**
     * The outbox of another process on the same database, for the race of claimers; a backend
     * that serves one process only (SQLite) answers the same outbox, claimed from many threads.
     */
    protected abstract WebhookOutbox anotherProcess();

    @BeforeEach
    void open() {
        jobs = openJobs(clock);
        outbox = outboxBeside(jobs);
    }

    @AfterEach
    void close() {
        jobs.close();
    }

    private int made;

    private String submit(String webhook) {
        NewJob job = NewJob.builder(RequestIds.next(clock), "acme", MODEL, GenerationInput.builder("p " + made++).build(),
                clock.instant()).webhook(webhook, BASE).build();
        SubmitOutcome outcome = jobs.submit(job);
        assertThat(outcome).isInstanceOf(SubmitOutcome.Created.class);
        return job.id();
    }

    /** Claims the head of the queue, which must be {@code id}. */
    private Claim run(String id) {
        List<Claim> claims = jobs.claim(1, LEASE);
        assertThat(claims).extracting(Claim::jobId).containsExactly(id);
        return claims.getFirst();
    }

    private boolean succeed(Claim claim) {
        return jobs.finish(claim, new Outcome.Succeeded(new JobResult(List.of(new StoredImage(claim.jobId() + "/0.png",
                "image/png", "0.png", 10, 1, 1)), ""), 5), line("Generated 1 image"));
    }

    private LogEntry line(String message) {
        return LogEntry.info(clock.instant(), message);
    }

    private Set<String> owed() {
        return outbox.claim(1000, LEASE).stream().map(WebhookOutbox.Claim::jobId).collect(Collectors.toSet());
    }

    @Test
    void every_way_a_request_ends_owes_exactly_one_delivery_to_its_url() {
        String succeeded = submit(URL);
        String failed = submit(URL);
        String running = submit(URL);
        String queued = submit(URL);
        Claim a = run(succeeded);
        Claim b = run(failed);
        Claim c = run(running);
        assertThat(succeed(a)).isTrue();
        assertThat(jobs.finish(b, new Outcome.Failed(Failure.of(ErrorType.PROVIDER_ERROR, "no image"), 3), line("Failed"))).isTrue();
        assertThat(jobs.cancel("acme", running)).isEqualTo(CancelOutcome.REQUESTED);
        assertThat(jobs.finish(c, new Outcome.Cancelled(1), line("Cancelled"))).isTrue();
        assertThat(jobs.cancel("acme", queued)).isEqualTo(CancelOutcome.CANCELLED);
        String reaped = submit(URL);
        run(reaped);
        clock.advance(LEASE.plusSeconds(1));
        assertThat(jobs.reapExpiredLeases(1, clock.instant())).contains(reaped); // its only attempt used: failed

        List<WebhookOutbox.Claim> claims = outbox.claim(1000, LEASE);

        assertThat(claims).extracting(WebhookOutbox.Claim::jobId)
                .containsExactlyInAnyOrder(succeeded, failed, running, queued, reaped);
        assertThat(claims).allSatisfy(d -> {
            assertThat(d.url()).isEqualTo(URL);
            assertThat(d.linkBase()).isEqualTo(BASE);
            assertThat(d.tenant()).isEqualTo("acme");
            assertThat(d.model()).isEqualTo(MODEL);
            assertThat(d.failedTries()).isZero();
        });
    }

    @Test
    void a_missed_start_deadline_owes_a_delivery_too() {
        NewJob late = NewJob.builder(RequestIds.next(clock), "acme", MODEL, GenerationInput.builder("late").build(),
                clock.instant()).startDeadline(clock.instant().plusSeconds(1)).webhook(URL, BASE).build();
        assertThat(jobs.submit(late)).isInstanceOf(SubmitOutcome.Created.class);
        clock.advance(Duration.ofSeconds(2));
        assertThat(jobs.failMissedStartDeadlines()).isEqualTo(1);

        assertThat(owed()).containsExactly(late.id());
    }

    @Test
    void nothing_is_owed_before_the_end_nor_for_a_request_without_a_webhook() {
        run(submit(URL)); // still running
        submit(URL); // still queued
        String plain = submit(null);
        jobs.cancel("acme", plain);

        assertThat(owed()).isEmpty();
        assertThat(outbox.nextDue()).isEmpty();
    }

    @Test
    void a_finish_that_lost_its_lease_owes_nothing_and_the_run_that_ends_the_request_owes_one() {
        String id = submit(URL);
        Claim lost = run(id);
        clock.advance(LEASE.plusSeconds(1));
        assertThat(jobs.reapExpiredLeases(3, clock.instant())).contains(id); // back in the queue
        assertThat(succeed(lost)).isFalse();
        assertThat(owed()).isEmpty();

        assertThat(succeed(run(id))).isTrue();

        assertThat(owed()).containsExactly(id);
    }

    @Test
    void a_delivery_is_due_when_its_request_ended_and_delivered_is_final_and_logged() {
        String id = submit(URL);
        clock.advance(Duration.ofSeconds(3));
        Instant ended = clock.instant();
        assertThat(succeed(run(id))).isTrue();
        assertThat(outbox.nextDue()).contains(ended);

        WebhookOutbox.Claim claim = outbox.claim(10, LEASE).getFirst();
        assertThat(outbox.delivered(claim, line("Webhook delivered to receiver.example: 200 in 4 ms."))).isTrue();

        clock.advance(Duration.ofDays(1));
        assertThat(owed()).isEmpty();
        assertThat(outbox.nextDue()).isEmpty();
        assertThat(outbox.delivered(claim, line("again"))).as("a second record of one claim").isFalse();
        assertThat(jobs.logs(id)).extracting(LogEntry::message).containsOnlyOnce("Webhook delivered to receiver.example: 200 in 4 ms.")
                .doesNotContain("again");
    }

    @Test
    void a_retry_is_due_at_its_time_counts_a_try_and_a_give_up_is_final() {
        String id = submit(URL);
        assertThat(succeed(run(id))).isTrue();
        WebhookOutbox.Claim first = outbox.claim(10, LEASE).getFirst();
        Instant next = clock.instant().plusSeconds(15);
        assertThat(outbox.retry(first, next, LogEntry.warn(clock.instant(), "Webhook to receiver.example failed: 503"))).isTrue();

        assertThat(owed()).as("before its time").isEmpty();
        assertThat(outbox.nextDue()).contains(next);
        clock.advance(Duration.ofSeconds(15));
        WebhookOutbox.Claim second = outbox.claim(10, LEASE).getFirst();
        assertThat(second.failedTries()).isEqualTo(1);
        assertThat(outbox.giveUp(second, LogEntry.error(clock.instant(), "Webhook to receiver.example given up"))).isTrue();

        clock.advance(Duration.ofDays(1));
        assertThat(owed()).isEmpty();
        assertThat(jobs.logs(id)).extracting(LogEntry::message)
                .contains("Webhook to receiver.example failed: 503", "Webhook to receiver.example given up");
    }

    @Test
    void a_claimed_delivery_is_not_claimed_again_until_its_lease_lapses_and_then_the_old_claim_records_nothing() {
        String id = submit(URL);
        assertThat(succeed(run(id))).isTrue();
        WebhookOutbox.Claim old = outbox.claim(10, LEASE).getFirst();
        assertThat(owed()).as("while the attempt is in flight").isEmpty();

        clock.advance(LEASE.plusSeconds(1)); // its process died mid-attempt
        WebhookOutbox.Claim again = outbox.claim(10, LEASE).getFirst();

        assertThat(again.jobId()).isEqualTo(id);
        assertThat(outbox.delivered(old, line("late answer of the dead attempt"))).isFalse();
        assertThat(outbox.delivered(again, line("delivered"))).isTrue();
        assertThat(jobs.logs(id)).extracting(LogEntry::message).contains("delivered")
                .doesNotContain("late answer of the dead attempt");
    }

    @Test
    void retention_keeps_a_request_until_its_webhook_is_done() {
        String id = submit(URL);
        assertThat(succeed(run(id))).isTrue();
        String plain = submit(null);
        assertThat(succeed(run(plain))).isTrue();
        clock.advance(Duration.ofDays(2));

        assertThat(jobs.expireResults(clock.instant(), 100)).containsExactly(plain);
        assertThat(jobs.result(id)).isPresent();

        WebhookOutbox.Claim claim = outbox.claim(10, LEASE).getFirst();
        assertThat(outbox.delivered(claim, line("delivered"))).isTrue();
        assertThat(jobs.expireResults(clock.instant(), 100)).containsExactly(id);
    }

    @Test
    void claimers_racing_take_every_delivery_exactly_once() throws Exception {
        int requests = 120;
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < requests; i++) {
            ids.add(submit(URL));
        }
        for (Claim claim : jobs.claim(requests, LEASE)) {
            assertThat(succeed(claim)).isTrue();
        }
        int claimers = 6;
        List<WebhookOutbox> outboxes = new ArrayList<>();
        for (int i = 0; i < claimers; i++) {
            outboxes.add(anotherProcess());
        }
        Map<String, AtomicInteger> taken = new ConcurrentHashMap<>();
        CyclicBarrier start = new CyclicBarrier(claimers);
        try (ExecutorService pool = Executors.newFixedThreadPool(claimers)) {
            List<Future<?>> done = new ArrayList<>();
            for (WebhookOutbox mine : outboxes) {
                done.add(pool.submit(() -> {
                    start.await();
                    List<WebhookOutbox.Claim> batch;
                    while (!(batch = mine.claim(5, LEASE)).isEmpty()) {
                        for (WebhookOutbox.Claim claim : batch) {
                            taken.computeIfAbsent(claim.jobId(), k -> new AtomicInteger()).incrementAndGet();
                            assertThat(mine.delivered(claim, line("delivered"))).isTrue();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        Map<String, Integer> counts = new HashMap<>();
        taken.forEach((k, v) -> counts.put(k, v.get()));
        assertThat(counts.keySet()).isEqualTo(ids);
        assertThat(counts.values()).containsOnly(1);
    }
}
