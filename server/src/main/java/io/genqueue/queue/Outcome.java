package io.genqueue.queue;

/** How a run ended, as the worker reports it to {@link JobStore#finish}. */
public sealed interface Outcome {

    long inferenceMillis();

    /** @param provider the provider that made the images, for the job's log */
    record Succeeded(JobResult result, String provider, long inferenceMillis) implements Outcome {

        public Succeeded(JobResult result, long inferenceMillis) {
            this(result, "the provider", inferenceMillis);
        }
    }

    record Failed(Failure failure, long inferenceMillis) implements Outcome {
    }

    record Cancelled(long inferenceMillis) implements Outcome {
    }
}
