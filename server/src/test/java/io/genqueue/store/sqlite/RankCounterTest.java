package io.genqueue.store.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RankCounterTest {

    @Test
    void counts_members_below_a_number() {
        RankCounter c = new RankCounter();
        c.add(10);
        c.add(12);
        c.add(15);
        assertThat(c.countBelow(10)).isZero();
        assertThat(c.countBelow(11)).isEqualTo(1);
        assertThat(c.countBelow(15)).isEqualTo(2);
        assertThat(c.countBelow(1_000_000)).isEqualTo(3);
        c.remove(12);
        assertThat(c.countBelow(15)).isEqualTo(1);
        c.remove(12);
        c.add(10);
        assertThat(c.size()).isEqualTo(2);
    }

    /** Random inserts, removals and re-inserts below the window, compared with a sorted set. */
    @Test
    void agrees_with_a_sorted_set_as_the_window_slides_and_grows() {
        RankCounter c = new RankCounter();
        TreeSet<Long> expected = new TreeSet<>();
        Random random = new Random(7);
        long next = 1;
        for (int step = 0; step < 200_000; step++) {
            int op = random.nextInt(10);
            if (op < 5) {
                c.add(next);
                expected.add(next);
                next += 1 + random.nextInt(3);
            } else if (op < 8 && !expected.isEmpty()) {
                long victim = expected.first();
                c.remove(victim);
                expected.remove(victim);
            } else if (op == 8 && next > 10) {
                long old = 1 + (long) (random.nextDouble() * (next - 1)); // a requeued job returns to its old place
                c.add(old);
                expected.add(old);
            } else {
                long probe = 1 + (long) (random.nextDouble() * next);
                assertThat(c.countBelow(probe)).isEqualTo(expected.headSet(probe).size());
            }
        }
        assertThat(c.size()).isEqualTo(expected.size());
    }
}
