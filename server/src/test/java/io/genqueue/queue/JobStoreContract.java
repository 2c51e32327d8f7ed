package io.genqueue.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.generation.ErrorType;
import io.genqueue.generation.GenerationInput;
import io.genqueue.image.OutputFormat;
import io.genqueue.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link JobStore} must do. A backend's test only says how to open a store on a clock;
 * time-driven rules (leases, retry delays, start deadlines, retention) are tested by stepping that
 * clock, never by sleeping.
 */
public abstract class JobStoreContract {

    protected static final Duration LEASE = Duration.ofSeconds(30);
    protected static final String MODEL = "nano_banana";

    protected final SettableClock clock = new SettableClock();
    protected JobStore store;
    private final List<String> changed = new CopyOnWriteArrayList<>();
    private final List<String> cancels = new CopyOnWriteArrayList<>();
    private final AtomicInteger available = new AtomicInteger();
    private int ids;

    /** Opens a store (on an empty database) that reads time from {@code clock}. */
    protected abstract JobStore open(SettableClock clock);

    @BeforeEach
    void openStore() {
        store = open(clock);
        store.addListener(new JobListener() {
            @Override
            public void jobsAvailable() {
                available.incrementAndGet();
            }

            @Override
            public void jobChanged(String jobId) {
                changed.add(jobId);
            }

            @Override
            public void cancelRequested(String jobId) {
                cancels.add(jobId);
            }
        });
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    protected static GenerationInput input(String prompt) {
        return GenerationInput.builder(prompt).build();
    }

    protected NewJob job(String tenant, Priority priority) {
        return NewJob.builder(RequestIds.next(clock), tenant, MODEL, input("prompt " + (ids++)), clock.instant())
                .priority(priority).build();
    }

    protected String submit(String tenant) {
        return submit(job(tenant, Priority.NORMAL));
    }

    protected String submit(NewJob job) {
        SubmitOutcome outcome = store.submit(job);
        assertThat(outcome).isInstanceOf(SubmitOutcome.Created.class);
        return ((SubmitOutcome.Created) outcome).job().id();
    }

    protected JobView view(String id) {
        return store.find("t1", id).orElseThrow();
    }

    protected Claim claimOne() {
        List<Claim> claims = store.claim(1, LEASE);
        assertThat(claims).hasSize(1);
        return claims.get(0);
    }

    /** Finishes with a log line naming the outcome. */
    protected boolean finish(Claim claim, Outcome outcome) {
        return store.finish(claim, outcome, LogEntry.info(clock.instant(), "ended: " + outcome.getClass().getSimpleName()));
    }

    private static Outcome.Succeeded success() {
        return new Outcome.Succeeded(new JobResult(List.of(new StoredImage("k/0.png", "image/png", "f.png", 10, 1, 1)), "text"), 5);
    }

    // ---------------------------------------------------------------- quotas

    private NewJob limited(String tenant, String keyId, int maxQueued, int dailyImages, int images) {
        return NewJob.builder(RequestIds.next(clock), tenant, MODEL, GenerationInput.builder("prompt " + (ids++)).numImages(images).build(),
                clock.instant()).quota(new Quota(keyId, maxQueued, dailyImages)).build();
    }

    @Test
    void max_queued_counts_queued_and_running_jobs_of_the_tenant_and_a_place_frees_when_one_ends() {
        submit("t1"); // before any quota was checked: counted all the same
        submit(limited("t1", "k1", 3, 0, 1));
        submit(limited("t1", "k1", 3, 0, 1));
        assertThat(store.submit(limited("t1", "k1", 3, 0, 1))).isEqualTo(new SubmitOutcome.OverQuota(Quota.Kind.MAX_QUEUED, 3));
        submit(limited("t2", "k2", 3, 0, 1)); // another tenant's count

        Claim running = claimOne();
        assertThat(store.submit(limited("t1", "k1", 3, 0, 1))).as("a running job counts").isInstanceOf(SubmitOutcome.OverQuota.class);
        assertThat(store.retry(running, clock.instant(), LogEntry.warn(clock.instant(), "again"))).isTrue();
        assertThat(store.submit(limited("t1", "k1", 3, 0, 1))).as("back in the queue, still counted").isInstanceOf(SubmitOutcome.OverQuota.class);
        assertThat(finish(claimOne(), success())).isTrue();
        String fourth = submit(limited("t1", "k1", 3, 0, 1));
        assertThat(store.submit(limited("t1", "k1", 3, 0, 1))).isInstanceOf(SubmitOutcome.OverQuota.class);

        assertThat(store.cancel("t1", fourth)).isEqualTo(CancelOutcome.CANCELLED);
        String fifth = submit(limited("t1", "k1", 3, 0, 1));
        assertThat(store.claim(10, LEASE)).extracting(Claim::jobId).contains(fifth); // every queued job, now running
        clock.advance(LEASE.plusSeconds(1));
        store.reapExpiredLeases(1, clock.instant()); // out of attempts: failed, and no longer counted
        assertThat(view(fifth).state()).isEqualTo(JobState.FAILED);
        for (int i = 0; i < 3; i++) {
            submit(limited("t1", "k1", 3, 0, 1));
        }
        assertThat(store.submit(limited("t1", "k1", 3, 0, 1))).isInstanceOf(SubmitOutcome.OverQuota.class);
    }

    @Test
    void daily_images_are_counted_per_key_and_utc_day() {
        clock.set(Instant.parse("2025-03-01T23:59:59Z"));
        submit(limited("t1", "k1", 0, 5, 4));
        assertThat(store.submit(limited("t1", "k1", 0, 5, 2))).isEqualTo(new SubmitOutcome.OverQuota(Quota.Kind.DAILY_IMAGES, 5));
        submit(limited("t1", "k1", 0, 5, 1));
        assertThat(store.submit(limited("t1", "k1", 0, 5, 1))).isInstanceOf(SubmitOutcome.OverQuota.class);
        submit(limited("t1", "k2", 0, 5, 4)); // another key of the tenant counts its own
        clock.advance(Duration.ofSeconds(1)); // 00:00 UTC
        submit(limited("t1", "k1", 0, 5, 4));
    }

    // ---------------------------------------------------------------- submit and read

    @Test
    void queue_depth_counts_the_queued_and_running_jobs_of_each_model_and_the_oldest_queued_submit() {
        assertThat(store.queueDepth()).isEmpty();
        Instant first = clock.instant();
        submit("t1");
        clock.advance(Duration.ofSeconds(5));
        submit("t2");
        submit(NewJob.builder(RequestIds.next(clock), "t1", "other_model", input("x"), clock.instant()).build());
        String done = submit("t1");
        Claim running = claimOne(); // the oldest: nano_banana's first
        assertThat(running.dueAt()).isEqualTo(first);
        claimOne();
        claimOne(); // now other_model's is running too
        assertThat(finish(store.claim(1, LEASE).get(0), success())).isTrue();
        assertThat(view(done).state()).isEqualTo(JobState.SUCCEEDED);
        submit("t1");
        submit("t1");

        List<QueueDepth> depth = store.queueDepth();
        assertThat(depth).extracting(QueueDepth::model).containsExactly(MODEL, "other_model");
        QueueDepth banana = depth.get(0);
        assertThat(banana.queued()).isEqualTo(2);
        assertThat(banana.running()).isEqualTo(2);
        assertThat(banana.oldestQueued()).isEqualTo(clock.instant());
        assertThat(depth.get(1)).isEqualTo(new QueueDepth("other_model", 0, 1, null));
    }

    @Test
    void a_claim_says_since_when_its_job_was_due() {
        Instant submitted = clock.instant();
        submit("t1");
        clock.advance(Duration.ofSeconds(7));
        Claim claim = claimOne();
        assertThat(claim.dueAt()).isEqualTo(submitted);
        assertThat(claim.claimedAt()).isEqualTo(submitted.plusSeconds(7));
        Instant runAfter = clock.instant().plusSeconds(3);
        assertThat(store.retry(claim, runAfter, LogEntry.warn(clock.instant(), "again"))).isTrue();
        clock.advance(Duration.ofSeconds(10));
        assertThat(claimOne().dueAt()).isEqualTo(runAfter);
    }

    @Test
    void submitted_job_is_queued_and_visible_only_to_its_tenant() {
        String id = submit("t1");
        JobView job = view(id);
        assertThat(job.state()).isEqualTo(JobState.QUEUED);
        assertThat(job.queuePosition()).isZero();
        assertThat(job.attempt()).isZero();
        assertThat(job.model()).isEqualTo(MODEL);
        assertThat(store.find("t2", id)).isEmpty();
        assertThat(store.find("t1", RequestIds.next(clock))).isEmpty();
        assertThat(available.get()).isPositive();
    }

    @Test
    void created_answer_carries_the_position_at_submit() {
        List<Long> positions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            positions.add(((SubmitOutcome.Created) store.submit(job("t1", Priority.NORMAL))).job().queuePosition());
        }
        long low = ((SubmitOutcome.Created) store.submit(job("t1", Priority.LOW))).job().queuePosition();
        assertThat(positions).containsExactly(0L, 1L, 2L);
        assertThat(low).isEqualTo(3);
    }

    @Test
    void positions_count_the_jobs_that_start_first() {
        String low1 = submit(job("t1", Priority.LOW));
        String a = submit("t1");
        String low2 = submit(job("t1", Priority.LOW));
        String b = submit("t1");
        String c = submit("t1");
        assertThat(view(a).queuePosition()).isEqualTo(0);
        assertThat(view(b).queuePosition()).isEqualTo(1);
        assertThat(view(c).queuePosition()).isEqualTo(2);
        assertThat(view(low1).queuePosition()).isEqualTo(3);
        assertThat(view(low2).queuePosition()).isEqualTo(4);

        assertThat(store.cancel("t1", b)).isEqualTo(CancelOutcome.CANCELLED);
        assertThat(view(c).queuePosition()).isEqualTo(1);
        assertThat(view(low1).queuePosition()).isEqualTo(2);

        assertThat(claimOne().jobId()).isEqualTo(a);
        assertThat(view(c).queuePosition()).isEqualTo(0);
        assertThat(view(low1).queuePosition()).isEqualTo(1);
        assertThat(view(low2).queuePosition()).isEqualTo(2);
    }

    @Test
    void claims_take_every_normal_job_before_any_low_one_oldest_first() {
        String low = submit(job("t1", Priority.LOW));
        String a = submit("t1");
        String b = submit("t2");
        List<Claim> claims = store.claim(10, LEASE);
        assertThat(claims).extracting(Claim::jobId).containsExactly(a, b, low);
        assertThat(claims).allSatisfy(c -> assertThat(c.attempt()).isEqualTo(1));
        assertThat(store.claim(10, LEASE)).isEmpty();
        JobView running = view(a);
        assertThat(running.state()).isEqualTo(JobState.RUNNING);
        assertThat(running.startedAt()).isEqualTo(clock.instant());
        assertThat(changed).contains(a, b, low);
    }

    @Test
    void claim_returns_at_most_the_slots_asked_for() {
        for (int i = 0; i < 5; i++) {
            submit("t1");
        }
        assertThat(store.claim(2, LEASE)).hasSize(2);
        assertThat(store.claim(0, LEASE)).isEmpty();
        assertThat(store.claim(5, LEASE)).hasSize(3);
    }

    @Test
    void a_claim_for_one_model_takes_only_its_jobs_in_queue_order() {
        String first = submit("t1");
        String other = submit(NewJob.builder(RequestIds.next(clock), "t1", "other_model", input("x"), clock.instant()).build());
        String second = submit("t1");
        assertThat(store.claim(5, LEASE, "other_model")).extracting(Claim::jobId).containsExactly(other);
        assertThat(store.claim(5, LEASE, "other_model")).isEmpty();
        assertThat(store.claim(1, LEASE, MODEL)).extracting(Claim::jobId).containsExactly(first);
        assertThat(store.claim(5, LEASE, MODEL)).extracting(Claim::jobId).containsExactly(second);
    }

    @Test
    void claim_carries_the_stored_input() {
        GenerationInput input = GenerationInput.builder("a cat").imageUrls(List.of("https://example.com/a.png"))
                .aspectRatio(io.genqueue.image.AspectRatio.R16_9).includeText(false).numImages(3)
                .outputFormat(OutputFormat.JPEG).seed(42L).syncMode(true).imageSize("4K").build();
        submit(NewJob.builder(RequestIds.next(clock), "t1", MODEL, input, clock.instant()).build());
        assertThat(claimOne().input()).isEqualTo(input);
    }

    // ---------------------------------------------------------------- finish, cancel

    @Test
    void finish_records_the_result_once() {
        String id = submit("t1");
        Claim claim = claimOne();
        assertThat(finish(claim, success())).isTrue();
        JobView done = view(id);
        assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.inferenceMillis()).isEqualTo(5);
        assertThat(done.failure()).isNull();
        assertThat(store.result(id)).hasValueSatisfying(r -> assertThat(r.description()).isEqualTo("text"));
        assertThat(finish(claim, new Outcome.Failed(Failure.of(ErrorType.PROVIDER_ERROR, "x"), 1))).isFalse();
        assertThat(view(id).state()).isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void a_failure_keeps_its_type_message_and_location() {
        String id = submit("t1");
        Failure failure = new Failure(ErrorType.IMAGE_FETCH_FAILED, "image_urls[1]: too big", List.of("body", "image_urls", 1));
        finish(claimOne(), new Outcome.Failed(failure, 7));
        JobView done = view(id);
        assertThat(done.state()).isEqualTo(JobState.FAILED);
        assertThat(done.failure()).isEqualTo(failure);
        assertThat(store.result(id)).isEmpty();
    }

    @Test
    void cancel_of_a_queued_job_ends_it_at_once() {
        String id = submit("t1");
        assertThat(store.cancel("t1", id)).isEqualTo(CancelOutcome.CANCELLED);
        JobView job = view(id);
        assertThat(job.state()).isEqualTo(JobState.CANCELLED);
        assertThat(job.failure().type()).isEqualTo(ErrorType.CANCELLED);
        assertThat(job.inferenceMillis()).isNull();
        assertThat(store.claim(1, LEASE)).isEmpty();
        assertThat(store.cancel("t1", id)).isEqualTo(CancelOutcome.ALREADY_COMPLETED);
        assertThat(changed).contains(id);
    }

    @Test
    void cancel_of_another_tenants_or_unknown_job_is_not_found() {
        String id = submit("t1");
        assertThat(store.cancel("t2", id)).isEqualTo(CancelOutcome.NOT_FOUND);
        assertThat(store.cancel("t1", RequestIds.next(clock))).isEqualTo(CancelOutcome.NOT_FOUND);
        assertThat(view(id).state()).isEqualTo(JobState.QUEUED);
    }

    @Test
    void cancel_of_a_running_job_asks_its_worker_and_either_outcome_may_win() {
        String cancelled = submit("t1");
        String won = submit("t1");
        Claim c1 = claimOne();
        Claim c2 = claimOne();
        assertThat(store.cancel("t1", cancelled)).isEqualTo(CancelOutcome.REQUESTED);
        assertThat(store.cancel("t1", won)).isEqualTo(CancelOutcome.REQUESTED);
        assertThat(cancels).contains(cancelled, won);
        assertThat(view(cancelled).cancelRequested()).isTrue();

        assertThat(finish(c1, new Outcome.Cancelled(3))).isTrue();
        assertThat(finish(c2, success())).isTrue();
        assertThat(view(cancelled).state()).isEqualTo(JobState.CANCELLED);
        assertThat(view(won).state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(store.cancel("t1", won)).isEqualTo(CancelOutcome.ALREADY_COMPLETED);
    }

    @Test
    void logs_come_back_in_order_and_before_the_outcome() {
        String id = submit("t1");
        Claim claim = claimOne();
        store.log(claim, LogEntry.info(clock.instant(), "one"));
        store.log(claim, LogEntry.warn(clock.instant(), "two"));
        finish(claim, success());
        assertThat(store.logs(id)).extracting(LogEntry::message).containsSubsequence("one", "two");
        assertThat(store.logs(id)).extracting(LogEntry::level).contains(LogEntry.Level.WARN);
    }

    @Test
    void the_outcome_and_its_log_line_are_recorded_together_or_not_at_all() {
        String id = submit("t1");
        Claim first = claimOne();
        clock.advance(LEASE.plusSeconds(1));
        store.reapExpiredLeases(3, clock.instant());
        Claim second = claimOne();
        assertThat(store.finish(first, success(), LogEntry.info(clock.instant(), "late success"))).isFalse();
        assertThat(store.finish(second, success(), LogEntry.info(clock.instant(), "the success"))).isTrue();
        assertThat(store.logs(id)).extracting(LogEntry::message).contains("the success").doesNotContain("late success");
    }

    // ---------------------------------------------------------------- retries, leases, deadlines

    @Test
    void a_retried_job_waits_out_its_delay_and_keeps_its_place() {
        String first = submit("t1");
        String second = submit("t1");
        Claim claim = claimOne();
        assertThat(store.retry(claim, clock.instant().plusSeconds(10), LogEntry.warn(clock.instant(), "overloaded"))).isTrue();
        JobView waiting = view(first);
        assertThat(waiting.state()).isEqualTo(JobState.QUEUED);
        assertThat(waiting.attempt()).isEqualTo(1);
        assertThat(waiting.queuePosition()).isZero();
        assertThat(view(second).queuePosition()).isEqualTo(1);
        assertThat(store.nextDelayedRun()).contains(clock.instant().plusSeconds(10));

        assertThat(claimOne().jobId()).isEqualTo(second);
        assertThat(store.claim(1, LEASE)).isEmpty();
        clock.advance(Duration.ofSeconds(10));
        Claim again = claimOne();
        assertThat(again.jobId()).isEqualTo(first);
        assertThat(again.attempt()).isEqualTo(2);
        assertThat(store.logs(first)).extracting(LogEntry::message).contains("overloaded");
    }

    @Test
    void a_retry_after_a_cancel_request_ends_cancelled() {
        String id = submit("t1");
        Claim claim = claimOne();
        store.cancel("t1", id);
        assertThat(store.retry(claim, clock.instant(), LogEntry.warn(clock.instant(), "503"))).isTrue();
        assertThat(view(id).state()).isEqualTo(JobState.CANCELLED);
        assertThat(store.claim(1, LEASE)).isEmpty();
    }

    @Test
    void release_requeues_without_counting_the_attempt() {
        String id = submit("t1");
        assertThat(store.release(claimOne(), clock.instant(), LogEntry.info(clock.instant(), "shutdown"))).isTrue();
        assertThat(view(id).state()).isEqualTo(JobState.QUEUED);
        assertThat(view(id).attempt()).isZero();
        assertThat(claimOne().attempt()).isEqualTo(1);
    }

    @Test
    void a_release_with_a_delay_runs_again_when_it_is_due_and_logs_why() {
        String id = submit("t1");
        Claim claim = claimOne();
        assertThat(store.release(claim, clock.instant().plusSeconds(10), LogEntry.warn(clock.instant(), "the disk is full"))).isTrue();
        assertThat(view(id).attempt()).as("storage failing is not the job's fault: no attempt counted").isZero();
        assertThat(store.claim(1, LEASE)).as("not before its delay").isEmpty();
        assertThat(store.nextDelayedRun()).contains(clock.instant().plusSeconds(10));
        clock.advance(Duration.ofSeconds(10));
        Claim again = claimOne();
        assertThat(again.attempt()).isEqualTo(1);
        assertThat(store.logs(id)).extracting(LogEntry::message).contains("the disk is full");
        assertThat(finish(again, success())).isTrue();
        assertThat(store.release(again, clock.instant(), LogEntry.warn(clock.instant(), "late"))).as("a finished job").isFalse();
        assertThat(view(id).state()).isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void an_expired_lease_is_reaped_and_the_late_worker_loses() {
        String id = submit("t1");
        Claim first = claimOne();
        clock.advance(LEASE.minusSeconds(1));
        assertThat(store.reapExpiredLeases(3, clock.instant())).isEmpty();
        assertThat(store.renew(List.of(first), LEASE)).isEmpty();
        clock.advance(LEASE.plusSeconds(1));
        assertThat(store.reapExpiredLeases(3, clock.instant())).containsExactly(id);
        assertThat(view(id).state()).isEqualTo(JobState.QUEUED);

        assertThat(store.renew(List.of(first), LEASE)).containsExactly(id);
        Claim second = claimOne();
        assertThat(second.attempt()).isEqualTo(2);
        assertThat(finish(first, success())).isFalse();
        assertThat(store.retry(first, clock.instant(), LogEntry.warn(clock.instant(), "late"))).isFalse();
        assertThat(finish(second, success())).isTrue();
        assertThat(view(id).state()).isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void a_reap_with_a_cutoff_leaves_the_leases_that_ran_out_after_it() {
        String id = submit("t1");
        claimOne();
        java.time.Instant runsOut = clock.instant().plus(LEASE);
        clock.advance(LEASE.plusSeconds(5));
        assertThat(store.reapExpiredLeases(3, runsOut)).as("a pass that started as the lease ran out").isEmpty();
        assertThat(view(id).state()).isEqualTo(JobState.RUNNING);
        assertThat(store.reapExpiredLeases(3, runsOut.plusMillis(1))).containsExactly(id);
        assertThat(view(id).state()).isEqualTo(JobState.QUEUED);
    }

    @Test
    void an_upstream_reference_survives_a_reap_and_a_release_but_not_a_retry() {
        String id = submit("t1");
        Claim first = claimOne();
        assertThat(first.upstream()).isNull();
        assertThat(store.saveUpstream(first, "fal:req-1")).isTrue();
        clock.advance(LEASE.plusSeconds(1));
        store.reapExpiredLeases(5, clock.instant());
        Claim second = claimOne();
        assertThat(second.upstream()).as("the run after a crash resumes the upstream request").isEqualTo("fal:req-1");
        assertThat(store.saveUpstream(first, "fal:late")).as("a late worker cannot overwrite it").isFalse();

        assertThat(store.release(second, clock.instant(), LogEntry.info(clock.instant(), "shutdown"))).isTrue();
        Claim third = claimOne();
        assertThat(third.upstream()).isEqualTo("fal:req-1");

        assertThat(store.retry(third, clock.instant(), LogEntry.warn(clock.instant(), "upstream failed"))).isTrue();
        Claim fourth = claimOne();
        assertThat(fourth.upstream()).as("a retry starts a fresh upstream request").isNull();
        assertThat(fourth.jobId()).isEqualTo(id);
    }

    @Test
    void a_job_whose_lease_runs_out_on_its_last_attempt_fails() {
        String id = submit("t1");
        claimOne();
        clock.advance(LEASE.plusSeconds(1));
        store.reapExpiredLeases(2, clock.instant());
        claimOne();
        clock.advance(LEASE.plusSeconds(1));
        store.reapExpiredLeases(2, clock.instant());
        JobView failed = view(id);
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        assertThat(failed.failure().type()).isEqualTo(ErrorType.INTERNAL_ERROR);
        assertThat(failed.failure().message()).contains("2 attempts");
    }

    @Test
    void each_reap_and_each_missed_start_deadline_leaves_one_job_line_with_the_state_it_left_the_job_in() {
        try (LogCapture logs = new LogCapture(JobLines.LOGGER)) {
            String id = submit("t1");
            claimOne();
            clock.advance(LEASE.plusSeconds(1));
            store.reapExpiredLeases(2, clock.instant());
            claimOne();
            clock.advance(LEASE.plusSeconds(1));
            store.reapExpiredLeases(2, clock.instant());
            NewJob timed = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("x"), clock.instant())
                    .startDeadline(clock.instant().plusSeconds(5)).build();
            String late = submit(timed);
            clock.advance(Duration.ofSeconds(5));
            store.failMissedStartDeadlines();

            assertThat(logs.fields(JobLines.LOGGER)).containsExactly(
                    Map.of("transition", "reaped", "state", "queued", "request_id", id, "tenant", "t1", "model", MODEL,
                            "attempt", 1),
                    Map.of("transition", "reaped", "state", "failed", "request_id", id, "tenant", "t1", "model", MODEL,
                            "attempt", 2, "error_type", "internal_error"),
                    Map.of("transition", "timed_out", "state", "failed", "request_id", late, "tenant", "t1", "model", MODEL,
                            "attempt", 0, "error_type", "request_timeout"));
        }
    }

    @Test
    void a_job_not_started_before_its_deadline_fails_with_request_timeout() {
        NewJob timed = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("x"), clock.instant())
                .startDeadline(clock.instant().plusSeconds(5)).build();
        String id = submit(timed);
        String other = submit("t1");
        clock.advance(Duration.ofSeconds(4));
        assertThat(store.failMissedStartDeadlines()).isZero();
        clock.advance(Duration.ofSeconds(1));
        // A claim never starts a job past its deadline, even before the sweeper ran.
        assertThat(claimOne().jobId()).isEqualTo(other);
        assertThat(store.claim(1, LEASE)).isEmpty();
        assertThat(store.failMissedStartDeadlines()).isEqualTo(1);
        JobView late = view(id);
        assertThat(late.state()).isEqualTo(JobState.FAILED);
        assertThat(late.failure().type()).isEqualTo(ErrorType.REQUEST_TIMEOUT);
    }

    @Test
    void a_deadline_no_longer_applies_once_the_job_started() {
        NewJob timed = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("x"), clock.instant())
                .startDeadline(clock.instant().plusSeconds(5)).build();
        String id = submit(timed);
        Claim claim = claimOne();
        store.retry(claim, clock.instant().plusSeconds(10), LogEntry.warn(clock.instant(), "retry"));
        clock.advance(Duration.ofSeconds(10));
        assertThat(store.failMissedStartDeadlines()).isZero();
        assertThat(claimOne().jobId()).isEqualTo(id);
    }

    // ---------------------------------------------------------------- idempotency, retention

    @Test
    void an_idempotency_key_returns_the_first_request_for_24_hours() {
        NewJob first = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("x"), clock.instant()).idempotency("k1", "h1")
                .build();
        String id = submit(first);
        NewJob again = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("x"), clock.instant()).idempotency("k1", "h1")
                .build();
        assertThat(store.submit(again)).isInstanceOfSatisfying(SubmitOutcome.Existing.class,
                e -> assertThat(e.job().id()).isEqualTo(id));
        NewJob changedBody = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("y"), clock.instant())
                .idempotency("k1", "h2").build();
        assertThat(store.submit(changedBody)).isEqualTo(new SubmitOutcome.Conflict(id));
        NewJob otherTenant = NewJob.builder(RequestIds.next(clock), "t2", MODEL, input("x"), clock.instant())
                .idempotency("k1", "h1").build();
        assertThat(store.submit(otherTenant)).isInstanceOf(SubmitOutcome.Created.class);

        clock.advance(Duration.ofHours(24).plusSeconds(1));
        NewJob later = NewJob.builder(RequestIds.next(clock), "t1", MODEL, input("y"), clock.instant()).idempotency("k1", "h2")
                .build();
        assertThat(store.submit(later)).isInstanceOf(SubmitOutcome.Created.class);
    }

    @Test
    void retention_expires_results_and_logs_then_records_the_purge() {
        String old = submit("t1");
        finish(claimOne(), success());
        clock.advance(Duration.ofDays(7));
        String recent = submit("t1");
        finish(claimOne(), success());
        String queued = submit("t1");

        assertThat(store.expireResults(clock.instant().minus(Duration.ofDays(7)).plusMillis(1), 100)).containsExactly(old);
        JobView expired = view(old);
        assertThat(expired.expired()).isTrue();
        assertThat(expired.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(store.result(old)).isEmpty();
        assertThat(store.logs(old)).isEmpty();
        assertThat(store.result(recent)).isPresent();
        assertThat(view(queued).expired()).isFalse();

        assertThat(store.expiredNotPurged(10)).containsExactly(old);
        store.markPurged(List.of(old));
        assertThat(store.expiredNotPurged(10)).isEmpty();
    }

    @Test
    void ping_answers_while_open() {
        assertThat(store.ping()).isTrue();
    }

    // ---------------------------------------------------------------- races

    /**
     * Many threads submit, claim, finish and cancel at once. Every job is claimed at most once per
     * attempt, ends in exactly one terminal state, and a cancel that reported success agrees with
     * the final state.
     */
    @Test
    void racing_transitions_each_happen_exactly_once() throws Exception {
        int jobs = 400;
        List<String> ids = Collections.synchronizedList(new ArrayList<>());
        Map<String, Integer> claimedCount = new ConcurrentHashMap<>();
        Map<String, CancelOutcome> cancelOutcome = new ConcurrentHashMap<>();
        Map<String, Boolean> finished = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < jobs / 4; i++) {
                    ids.add(submit("t1"));
                }
            }));
        }
        for (int w = 0; w < 4; w++) {
            threads.add(Thread.ofPlatform().start(() -> {
                int idle = 0;
                while (idle < 200) {
                    List<Claim> claims = store.claim(3, LEASE);
                    if (claims.isEmpty()) {
                        idle++;
                        Thread.onSpinWait();
                        continue;
                    }
                    idle = 0;
                    for (Claim c : claims) {
                        claimedCount.merge(c.jobId(), 1, Integer::sum);
                        if (finish(c, success())) {
                            finished.put(c.jobId(), true);
                        }
                    }
                }
            }));
        }
        for (int k = 0; k < 2; k++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < jobs; i += 2) {
                    List<String> snapshot;
                    synchronized (ids) {
                        snapshot = new ArrayList<>(ids);
                    }
                    if (!snapshot.isEmpty()) {
                        String id = snapshot.get((i * 31) % snapshot.size());
                        cancelOutcome.merge(id, store.cancel("t1", id), (a, b) -> a == CancelOutcome.CANCELLED ? a : b);
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        // Whatever is still queued (submitted after the workers went idle) is drained here.
        for (List<Claim> rest = store.claim(100, LEASE); !rest.isEmpty(); rest = store.claim(100, LEASE)) {
            for (Claim c : rest) {
                claimedCount.merge(c.jobId(), 1, Integer::sum);
                finish(c, success());
            }
        }
        assertThat(ids).hasSize(jobs).doesNotHaveDuplicates();
        for (String id : ids) {
            JobView job = view(id);
            assertThat(job.state().isTerminal()).as("job %s ended", id).isTrue();
            assertThat(claimedCount.getOrDefault(id, 0)).as("claims of %s", id).isLessThanOrEqualTo(1);
            if (cancelOutcome.get(id) == CancelOutcome.CANCELLED) {
                assertThat(job.state()).isEqualTo(JobState.CANCELLED);
                assertThat(claimedCount.get(id)).isNull();
            }
            if (job.state() == JobState.SUCCEEDED) {
                assertThat(claimedCount.get(id)).isEqualTo(1);
            }
        }
    }

    // ---------------------------------------------------------------- status reads

    @Test
    void a_status_read_shows_the_position_the_claims_and_cancels_left() {
        String low = submit(job("t1", Priority.LOW));
        String a = submit("t1");
        String b = submit("t1");
        String c = submit("t1");
        assertThat(status(c).queuePosition()).isEqualTo(2);
        assertThat(status(low).queuePosition()).isEqualTo(3);
        assertThat(store.cancel("t1", b)).isEqualTo(CancelOutcome.CANCELLED);
        assertThat(status(b).state()).isEqualTo(JobState.CANCELLED);
        assertThat(status(c).queuePosition()).isEqualTo(1);
        assertThat(claimOne().jobId()).isEqualTo(a);
        assertThat(status(a).state()).isEqualTo(JobState.RUNNING);
        assertThat(status(c).queuePosition()).isZero();
        assertThat(status(low).queuePosition()).isEqualTo(1);
        assertThat(store.status("t2", c)).isEmpty();
        assertThat(store.status("t1", RequestIds.next(clock))).isEmpty();
    }

    @Test
    void a_status_read_follows_every_kind_of_change() {
        String retried = submit("t1");
        Claim first = claimOne();
        assertThat(status(retried).state()).isEqualTo(JobState.RUNNING);
        assertThat(store.retry(first, clock.instant(), LogEntry.info(clock.instant(), "again"))).isTrue();
        assertThat(status(retried).state()).isEqualTo(JobState.QUEUED);
        Claim second = claimOne();
        assertThat(status(retried).attempt()).isEqualTo(2);
        assertThat(store.release(second, clock.instant(), LogEntry.info(clock.instant(), "shutdown"))).isTrue();
        assertThat(status(retried).state()).isEqualTo(JobState.QUEUED);
        Claim third = claimOne();
        clock.advance(LEASE.plusSeconds(1));
        assertThat(store.reapExpiredLeases(1, clock.instant())).containsExactly(retried);
        assertThat(status(retried).state()).isEqualTo(JobState.FAILED);
        assertThat(finish(third, success())).isFalse();

        String failed = submit("t1");
        Claim claim = claimOne();
        assertThat(store.cancel("t1", failed)).isEqualTo(CancelOutcome.REQUESTED);
        assertThat(status(failed).cancelRequested()).isTrue();
        assertThat(finish(claim, new Outcome.Failed(Failure.of(ErrorType.PROVIDER_ERROR, "no"), 3))).isTrue();
        JobView ended = status(failed);
        assertThat(ended.state()).isEqualTo(JobState.FAILED);
        assertThat(ended.failure().message()).isEqualTo("no");
        assertThat(ended.inferenceMillis()).isEqualTo(3);
        assertThat(status(failed)).isEqualTo(view(failed));
    }

    private JobView status(String id) {
        return store.status("t1", id).orElseThrow();
    }

    private static int rank(JobState state) {
        return state == JobState.QUEUED ? 0 : state == JobState.RUNNING ? 1 : 2;
    }

    /**
     * The rule of status answers from memory, under many threads: a status read after a submit
     * returned finds the job; after a claim returned it is no longer queued; after a finish returned
     * it is final; and no read shows a state older than one any thread saw before the read began.
     * Another tenant never sees the job. At rest every status equals the database's view.
     */
    @Test
    void status_reads_never_show_a_state_older_than_one_already_seen() throws Exception {
        int submitters = 3;
        int perSubmitter = 150;
        List<String> ids = new CopyOnWriteArrayList<>();
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger submittersLeft = new AtomicInteger(submitters);
        AtomicBoolean workDone = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        java.util.function.BiConsumer<String, Integer> atLeast = (id, least) -> {
            int before = Math.max(least, seen.getOrDefault(id, 0));
            JobView job = store.status("t1", id).orElse(null);
            if (job == null) {
                problems.add(id + " not found");
                return;
            }
            if (rank(job.state()) < before) {
                problems.add(id + " showed " + job.state() + " after rank " + before);
            }
            seen.merge(id, rank(job.state()), Math::max);
        };
        for (int t = 0; t < submitters; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perSubmitter; i++) {
                    String id = submit("t1");
                    ids.add(id);
                    atLeast.accept(id, 0);
                }
                submittersLeft.decrementAndGet();
            }));
        }
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            workers.add(Thread.ofPlatform().start(() -> {
                while (true) {
                    boolean last = submittersLeft.get() == 0;
                    List<Claim> claims = store.claim(3, LEASE);
                    if (claims.isEmpty() && last) {
                        return;
                    }
                    for (Claim c : claims) {
                        atLeast.accept(c.jobId(), 1);
                        if (finish(c, success())) {
                            atLeast.accept(c.jobId(), 2);
                        }
                    }
                }
            }));
        }
        for (int p = 0; p < 3; p++) {
            threads.add(Thread.ofPlatform().start(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (!workDone.get()) {
                    if (ids.isEmpty()) {
                        Thread.onSpinWait();
                        continue;
                    }
                    String id = ids.get(random.nextInt(ids.size()));
                    atLeast.accept(id, 0);
                    if (store.status("t2", id).isPresent()) {
                        problems.add(id + " shown to another tenant");
                    }
                }
            }));
        }
        threads.add(Thread.ofPlatform().start(() -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (!workDone.get()) {
                if (ids.size() > 10) {
                    String id = ids.get(random.nextInt(ids.size()));
                    if (store.cancel("t1", id) == CancelOutcome.CANCELLED) {
                        atLeast.accept(id, 2);
                    }
                }
            }
        }));
        for (Thread w : workers) {
            w.join(120_000);
        }
        workDone.set(true);
        for (Thread t : threads) {
            t.join(60_000);
        }
        assertThat(problems).isEmpty();
        assertThat(ids).hasSize(submitters * perSubmitter);
        for (String id : ids) {
            assertThat(status(id)).as("status of %s", id).isEqualTo(view(id));
            assertThat(status(id).state().isTerminal()).isTrue();
        }
    }
}
