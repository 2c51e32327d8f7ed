package io.genqueue.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventuallyTest {

    private static final Duration HANG = Duration.ofSeconds(10);

    @Test
    void a_value_is_the_first_accepted_answer() {
        AtomicInteger looks = new AtomicInteger();
        int value = Eventually.value(HANG, "the third look", looks::incrementAndGet, n -> n >= 3);
        assertThat(value).isEqualTo(3);
        assertThat(looks).hasValue(3);
    }

    @Test
    void until_returns_once_the_condition_holds() {
        AtomicInteger looks = new AtomicInteger();
        Eventually.until(HANG, "the second look", () -> looks.incrementAndGet() == 2);
        assertThat(looks).hasValue(2);
    }

    @Test
    void a_wait_that_runs_out_names_what_it_awaited_and_the_last_answer() {
        AtomicInteger looks = new AtomicInteger();
        assertThatThrownBy(() -> Eventually.value(Duration.ofMillis(50), "a negative count", looks::incrementAndGet,
                n -> n < 0))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("a negative count")
                .hasMessageContaining("last seen: " + looks.get());
    }

    @Test
    void a_look_that_throws_ends_the_wait_with_its_exception() {
        IOException broken = new IOException("broken");
        assertThatThrownBy(() -> Eventually.until(HANG, "a look that works", () -> {
            throw broken;
        })).isSameAs(broken);
    }
}
