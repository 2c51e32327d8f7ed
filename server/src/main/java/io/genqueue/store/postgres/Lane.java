package io.genqueue.store.postgres;

import io.genqueue.queue.NewJob;

/** A queue of one model and priority (0 normal, 1 low): its jobs are numbered by one ticket sequence. */
record Lane(String model, int lane) {

    static Lane of(NewJob job) {
        return new Lane(job.model(), job.priority().lane());
    }
}
