package io.genqueue.queue;

/** How a run ended, as the worker reports it to {@link JobStore#finish}. */
public sealed interface Outcome {

    long inferenceMillis();

    record Succeeded(JobResult result, long inferenceMillis) implements Outcome {
    }

    record Failed(Failure failure, long inferenceMillis) implements Outcome {
    }

    record Cancelled(long inferenceMillis) implements Outcome {
    }
}
