package io.genqueue.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.image.ImageData;
import io.genqueue.image.ImageProbe;
import io.genqueue.provider.GenerationResult;
import io.genqueue.testing.SettableClock;
import io.genqueue.testing.TestImages;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The images held for jobs whose storing failed stay within their bound in bytes and time. */
class HeldResultsTest {

    private final SettableClock clock = new SettableClock();

    @Test
    void a_held_result_goes_to_the_jobs_next_attempt_once_with_its_count_of_faults() {
        HeldResults held = new HeldResults(1 << 20, Duration.ofHours(1), clock);
        GenerationResult result = result(64);
        assertThat(held.storageFailed("job_a", result, 0)).isEqualTo(1);
        HeldResults.Held taken = held.take("job_a");
        assertThat(taken.result()).isSameAs(result);
        assertThat(held.take("job_a")).as("taken once").isNull();
        assertThat(held.storageFailed("job_a", taken.result(), taken.storageFaults())).isEqualTo(2);
    }

    @Test
    void the_oldest_results_are_let_go_to_stay_under_the_bound_and_one_too_large_is_not_held() {
        GenerationResult one = result(64);
        long size = one.images().get(0).bytes().length;
        HeldResults held = new HeldResults(size * 2, Duration.ofHours(1), clock);
        held.storageFailed("job_a", one, 0);
        held.storageFailed("job_b", result(64), 0);
        held.storageFailed("job_c", result(64), 0);
        assertThat(held.bytes()).isLessThanOrEqualTo(size * 2);
        assertThat(held.take("job_a")).as("the oldest let go").isNull();
        assertThat(held.take("job_c").result()).isNotNull();

        HeldResults small = new HeldResults(size - 1, Duration.ofHours(1), clock);
        small.storageFailed("job_d", one, 0);
        HeldResults.Held d = small.take("job_d");
        assertThat(d.result()).as("too large to hold: its next attempt calls the provider").isNull();
        assertThat(d.storageFaults()).isEqualTo(1);
    }

    @Test
    void an_entry_is_dropped_after_its_age() {
        HeldResults held = new HeldResults(1 << 20, Duration.ofMinutes(10), clock);
        held.storageFailed("job_a", result(32), 0);
        clock.advance(Duration.ofMinutes(11));
        assertThat(held.take("job_a")).isNull();
        assertThat(held.bytes()).isZero();
    }

    private static GenerationResult result(int side) {
        byte[] png = TestImages.png(side, side);
        return new GenerationResult(List.of(new ImageData(png, ImageProbe.probe(png, Long.MAX_VALUE))), "");
    }
}
