package io.genqueue.queue;

import static io.genqueue.queue.JobState.CANCELLED;
import static io.genqueue.queue.JobState.FAILED;
import static io.genqueue.queue.JobState.QUEUED;
import static io.genqueue.queue.JobState.RUNNING;
import static io.genqueue.queue.JobState.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class JobStateTest {

    @Test
    void the_legal_moves_are_exactly_these() {
        Set<List<JobState>> legal = new HashSet<>();
        for (JobState from : JobState.values()) {
            for (JobState to : JobState.values()) {
                if (from.canMoveTo(to)) {
                    legal.add(List.of(from, to));
                }
            }
        }
        assertThat(legal).containsExactlyInAnyOrder(
                List.of(QUEUED, RUNNING), List.of(QUEUED, CANCELLED), List.of(QUEUED, FAILED),
                List.of(RUNNING, SUCCEEDED), List.of(RUNNING, FAILED), List.of(RUNNING, CANCELLED), List.of(RUNNING, QUEUED));
    }

    @Test
    void the_api_shows_only_fals_three_statuses() {
        assertThat(QUEUED.apiStatus()).isEqualTo("IN_QUEUE");
        assertThat(RUNNING.apiStatus()).isEqualTo("IN_PROGRESS");
        for (JobState s : List.of(SUCCEEDED, FAILED, CANCELLED)) {
            assertThat(s.apiStatus()).isEqualTo("COMPLETED");
            assertThat(s.isTerminal()).isTrue();
        }
    }
}
