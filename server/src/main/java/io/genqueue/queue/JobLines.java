package io.genqueue.queue;

import io.genqueue.generation.ErrorType;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * The job lines: one log line per transition of a job, at info on the logger {@value #LOGGER}, each
 * written once, by the part that knows the transition happened (after the store committed it):
 * {@code http} for submits and cancels of queued jobs, {@code worker} for starts, retries, returns
 * to the queue and finished runs, the stores for what their reaper decides.
 *
 * <p>Fields: {@code transition} (what happened: {@code submitted}, {@code started}, {@code retried},
 * {@code requeued}, {@code reaped}, {@code succeeded}, {@code failed}, {@code cancelled},
 * {@code timed_out}), {@code state} (the job's state after it, lowercase), {@code request_id},
 * {@code tenant}, {@code model}, {@code attempt}; where known {@code provider}, {@code queued_ms}
 * (how long the attempt waited for a worker), {@code run_ms} (how long the attempt ran) and
 * {@code error_type}. Never the prompt, a URL or a key. When the logger is off, nothing is built.
 */
public final class JobLines {

    public static final String LOGGER = "io.genqueue.jobs";
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private JobLines() {
    }

    /** A request was stored (an idempotent repeat is not a transition). */
    public static void submitted(String id, String tenant, String model) {
        if (log.isInfoEnabled()) {
            line("submitted", JobState.QUEUED, id, tenant, model, 0, "").log();
        }
    }

    /** A worker of this process claimed the job and starts its attempt. */
    public static void started(Claim claim) {
        if (log.isInfoEnabled()) {
            long queued = queuedMillis(claim);
            line("started", JobState.RUNNING, claim.jobId(), claim.tenant(), claim.model(), claim.attempt(),
                    ", waited " + queued + " ms").addKeyValue("queued_ms", queued).log();
        }
    }

    /** The attempt failed in a way worth retrying; the job waits {@code delay} in the queue. */
    public static void retried(Claim claim, ErrorType type, long runMillis, Duration delay) {
        if (log.isInfoEnabled()) {
            line("retried", JobState.QUEUED, claim.jobId(), claim.tenant(), claim.model(), claim.attempt(),
                    ", " + type.wire() + " after " + runMillis + " ms, again in " + delay.toMillis() + " ms")
                    .addKeyValue("queued_ms", queuedMillis(claim)).addKeyValue("run_ms", runMillis)
                    .addKeyValue("error_type", type.wire()).addKeyValue("retry_in_ms", delay.toMillis()).log();
        }
    }

    /** The attempt was stopped without an outcome (a graceful shutdown) and the job went back to the queue. */
    public static void requeued(Claim claim, long runMillis) {
        if (log.isInfoEnabled()) {
            line("requeued", JobState.QUEUED, claim.jobId(), claim.tenant(), claim.model(), claim.attempt(),
                    " after " + runMillis + " ms").addKeyValue("queued_ms", queuedMillis(claim)).addKeyValue("run_ms", runMillis)
                    .log();
        }
    }

    /** The attempt's outcome was recorded: succeeded, failed or cancelled while running. */
    public static void finished(Claim claim, Outcome outcome) {
        if (!log.isInfoEnabled()) {
            return;
        }
        JobState state = switch (outcome) {
            case Outcome.Succeeded s -> JobState.SUCCEEDED;
            case Outcome.Failed f -> JobState.FAILED;
            case Outcome.Cancelled c -> JobState.CANCELLED;
        };
        String provider = outcome instanceof Outcome.Succeeded s ? s.provider() : null;
        String error = outcome instanceof Outcome.Failed f ? f.failure().type().wire() : null;
        LoggingEventBuilder line = line(state.name().toLowerCase(java.util.Locale.ROOT), state, claim.jobId(), claim.tenant(),
                claim.model(), claim.attempt(), (provider == null ? "" : " by " + provider) + (error == null ? "" : ", " + error)
                        + " after " + outcome.inferenceMillis() + " ms")
                .addKeyValue("queued_ms", queuedMillis(claim)).addKeyValue("run_ms", outcome.inferenceMillis());
        if (provider != null) {
            line.addKeyValue("provider", provider);
        }
        if (error != null) {
            line.addKeyValue("error_type", error);
        }
        line.log();
    }

    /** A queued job was cancelled by its client (a running one's cancel ends as its run's outcome). */
    public static void cancelledQueued(String id, String tenant, String model, int attempt) {
        if (log.isInfoEnabled()) {
            line("cancelled", JobState.CANCELLED, id, tenant, model, attempt, " while queued").log();
        }
    }

    /** The reaper took the job from a worker that stopped renewing its lease: back in the queue, failed, or cancelled. */
    public static void reaped(String id, String tenant, String model, int attempt, JobState after) {
        if (log.isInfoEnabled()) {
            LoggingEventBuilder line = line("reaped", after, id, tenant, model, attempt, ": its worker stopped renewing the lease");
            if (after == JobState.FAILED) {
                line.addKeyValue("error_type", ErrorType.INTERNAL_ERROR.wire());
            }
            line.log();
        }
    }

    /** A queued job did not start within its start timeout and failed. */
    public static void timedOut(String id, String tenant, String model) {
        if (log.isInfoEnabled()) {
            line("timed_out", JobState.FAILED, id, tenant, model, 0, ": not started within its start timeout")
                    .addKeyValue("error_type", ErrorType.REQUEST_TIMEOUT.wire()).log();
        }
    }

    private static LoggingEventBuilder line(String transition, JobState state, String id, String tenant, String model,
            int attempt, String detail) {
        return log.atInfo()
                .setMessage("job " + id + " " + transition + " (tenant " + tenant + ", model " + model
                        + (attempt > 0 ? ", attempt " + attempt : "") + ")" + detail)
                .addKeyValue("transition", transition)
                .addKeyValue("state", state.name().toLowerCase(java.util.Locale.ROOT))
                .addKeyValue("request_id", id)
                .addKeyValue("tenant", tenant)
                .addKeyValue("model", model)
                .addKeyValue("attempt", attempt);
    }

    private static long queuedMillis(Claim claim) {
        return Math.max(0, Duration.between(claim.dueAt(), claim.claimedAt()).toMillis());
    }
}
