package io.genqueue.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.generation.ErrorType;
import io.genqueue.generation.GenerationInput;
import io.genqueue.queue.CancelOutcome;
import io.genqueue.queue.Claim;
import io.genqueue.queue.Failure;
import io.genqueue.queue.JobResult;
import io.genqueue.queue.JobState;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.LogEntry;
import io.genqueue.queue.NewJob;
import io.genqueue.queue.Outcome;
import io.genqueue.queue.RequestIds;
import io.genqueue.queue.StoreException;
import io.genqueue.queue.StoredImage;
import io.genqueue.queue.SubmitOutcome;
import io.genqueue.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link UsageStore} does with the {@link JobStore} it sits beside: each request is
 * counted once when submitted, on the UTC day of its submit, and once when it ends, by whichever
 * path, on the UTC day it ended; the count commits or fails with the job change it counts. Time
 * is stepped on a settable clock.
 */
public abstract class UsageContract {

    protected static final Duration LEASE = Duration.ofSeconds(30);
    private static final String MODEL = "nano_banana";
    private static final LocalDate DAY_ONE = LocalDate.parse("2026-03-10");
    private static final LocalDate DAY_TWO = DAY_ONE.plusDays(1);

    protected final SettableClock clock = new SettableClock(Instant.parse("2026-03-10T23:59:00Z"));
    protected JobStore jobs;
    protected UsageStore usage;

    /** Opens a job store on an empty database, reading time from {@code clock}. */
    protected abstract JobStore openJobs(SettableClock clock);

    /** The usage store beside {@code jobs}. */
    protected abstract UsageStore usageBeside(JobStore jobs);

    /** Makes every later write of a usage count fail, from outside the stores (as a full disk or a bug would). */
    protected abstract void breakUsageWrites() throws Exception;

    @BeforeEach
    void open() {
        jobs = openJobs(clock);
        usage = usageBeside(jobs);
    }

    @AfterEach
    void close() {
        jobs.close();
    }

    private NewJob.Builder job(String tenant) {
        return NewJob.builder(RequestIds.next(clock), tenant, MODEL, GenerationInput.builder("p").build(), clock.instant());
    }

    private String submit(NewJob job) {
        assertThat(jobs.submit(job)).isInstanceOf(SubmitOutcome.Created.class);
        return job.id();
    }

    private String submit(String tenant) {
        return submit(job(tenant).build());
    }

    private boolean succeed(Claim claim, String provider, int images, long millis) {
        List<StoredImage> stored = IntStream.range(0, images)
                .mapToObj(i -> new StoredImage(claim.jobId() + "/" + i + ".png", "image/png", i + ".png", 10, 1, 1)).toList();
        return jobs.finish(claim, new Outcome.Succeeded(new JobResult(stored, ""), provider, millis), line("Generated"));
    }

    private LogEntry line(String message) {
        return LogEntry.info(clock.instant(), message);
    }

    private UsageReport report(Optional<String> tenant, LocalDate from, LocalDate to) {
        UsageRange range = new UsageRange(from, to);
        return UsageReport.of(range, usage.counts(tenant, range));
    }

    private UsageReport.Figures figures(String tenant, LocalDate day) {
        UsageReport report = report(Optional.of(tenant), day, day);
        assertThat(report.rows()).allSatisfy(r -> assertThat(r.model()).isEqualTo(MODEL));
        return report.totals();
    }

    private static UsageReport.Figures submitted(long n) {
        return new UsageReport.Figures(n, 0, 0, Map.of(), 0, 0, Map.of());
    }

    @Test
    void every_way_a_request_ends_is_counted_once_on_the_utc_day_it_ended() {
        List<String> claimed = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            claimed.add(submit("acme"));
        }
        String queuedThenCancelled = submit("acme");
        String missedItsStart = submit(job("acme").startDeadline(clock.instant().plusSeconds(120)).build());
        submit("other");
        clock.set(Instant.parse("2026-03-11T00:00:30Z")); // the next UTC day
        List<Claim> claims = jobs.claim(5, LEASE);
        assertThat(claims).extracting(Claim::jobId).containsExactlyElementsOf(claimed);

        assertThat(succeed(claims.get(0), "gemini", 2, 1_500)).isTrue();
        assertThat(succeed(claims.get(1), "preview", 1, 250)).isTrue();
        assertThat(jobs.finish(claims.get(2), new Outcome.Failed(Failure.of(ErrorType.PROVIDER_ERROR, "no image"), 3),
                line("Failed"))).isTrue();
        assertThat(jobs.cancel("acme", claims.get(3).jobId())).isEqualTo(CancelOutcome.REQUESTED);
        assertThat(jobs.finish(claims.get(3), new Outcome.Cancelled(7), line("Cancelled"))).isTrue();
        assertThat(jobs.cancel("acme", queuedThenCancelled)).isEqualTo(CancelOutcome.CANCELLED);
        clock.advance(Duration.ofMinutes(2));
        assertThat(jobs.failMissedStartDeadlines()).isEqualTo(1);
        assertThat(jobs.reapExpiredLeases(1, clock.instant())).containsExactly(claims.get(4).jobId()); // its last attempt

        assertThat(jobs.find("acme", missedItsStart).orElseThrow().state()).isEqualTo(JobState.FAILED);
        assertThat(figures("acme", DAY_ONE)).isEqualTo(submitted(7));
        assertThat(figures("other", DAY_ONE)).isEqualTo(submitted(1));
        assertThat(figures("acme", DAY_TWO)).isEqualTo(new UsageReport.Figures(0, 2, 3,
                Map.of("internal_error", 1L, "provider_error", 1L, "request_timeout", 1L), 2, 3,
                Map.of("gemini", 1_500L, "preview", 250L)));
        assertThat(figures("other", DAY_TWO)).isEqualTo(UsageReport.Figures.NONE);
    }

    @Test
    void a_report_has_a_row_per_tenant_day_and_model_with_activity_and_the_totals_of_the_range() {
        submit("acme");
        submit("other");
        clock.set(Instant.parse("2026-03-12T08:00:00Z"));
        String later = submit("acme");
        Claim claim = jobs.claim(3, LEASE).stream().filter(c -> c.jobId().equals(later)).findFirst().orElseThrow();
        assertThat(succeed(claim, "fal", 4, 2_000)).isTrue();

        UsageReport all = report(Optional.empty(), DAY_ONE, DAY_TWO.plusDays(1));
        assertThat(all.rows()).extracting(r -> r.tenant() + " " + r.day())
                .containsExactly("acme 2026-03-10", "acme 2026-03-12", "other 2026-03-10"); // nothing on the 11th
        assertThat(all.totals()).isEqualTo(new UsageReport.Figures(3, 1, 0, Map.of(), 0, 4, Map.of("fal", 2_000L)));
        assertThat(report(Optional.of("acme"), DAY_TWO, DAY_TWO).rows()).isEmpty();
        assertThat(report(Optional.of("acme"), DAY_ONE, DAY_ONE).totals()).isEqualTo(submitted(1));
    }

    @Test
    void a_retry_a_lost_lease_and_an_idempotent_repeat_count_nothing_more() {
        NewJob first = job("acme").idempotency("k1", "hash").build();
        submit(first);
        NewJob repeat = job("acme").idempotency("k1", "hash").build();
        assertThat(jobs.submit(repeat)).isInstanceOf(SubmitOutcome.Existing.class);

        Claim one = jobs.claim(1, LEASE).getFirst();
        assertThat(jobs.retry(one, clock.instant(), line("retrying"))).isTrue();
        Claim two = jobs.claim(1, LEASE).getFirst();
        clock.advance(LEASE.plusSeconds(1));
        assertThat(jobs.reapExpiredLeases(5, clock.instant())).containsExactly(first.id()); // back in the queue
        assertThat(succeed(two, "gemini", 1, 10)).as("a finish after its lease was lost").isFalse();
        Claim three = jobs.claim(1, LEASE).getFirst();
        assertThat(succeed(three, "gemini", 1, 40)).isTrue();

        assertThat(figures("acme", DAY_ONE).submitted()).isEqualTo(1);
        assertThat(report(Optional.of("acme"), DAY_ONE, DAY_TWO).totals())
                .isEqualTo(new UsageReport.Figures(1, 1, 0, Map.of(), 0, 1, Map.of("gemini", 40L)));
    }

    @Test
    void a_job_change_whose_count_cannot_be_written_does_not_happen() throws Exception {
        String running = submit("acme");
        Claim claim = jobs.claim(1, LEASE).getFirst();
        String queued = submit("acme");
        breakUsageWrites();

        assertThatThrownBy(() -> succeed(claim, "gemini", 1, 10)).isInstanceOf(StoreException.class);
        assertThatThrownBy(() -> jobs.cancel("acme", queued)).isInstanceOf(StoreException.class);
        NewJob refused = job("acme").build();
        assertThatThrownBy(() -> jobs.submit(refused)).isInstanceOf(StoreException.class);

        assertThat(jobs.find("acme", running).orElseThrow().state()).isEqualTo(JobState.RUNNING);
        assertThat(jobs.find("acme", queued).orElseThrow().state()).isEqualTo(JobState.QUEUED);
        assertThat(jobs.find("acme", refused.id())).isEmpty();
        assertThat(report(Optional.empty(), DAY_ONE, DAY_TWO).totals()).isEqualTo(submitted(2));
    }
}
