package io.genqueue.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class UsageRangeTest {

    private static final LocalDate TODAY = LocalDate.parse("2026-03-17");

    @Test
    void without_dates_the_range_is_the_month_to_date() {
        assertThat(UsageRange.parse(null, null, TODAY)).isEqualTo(new UsageRange(LocalDate.parse("2026-03-01"), TODAY));
    }

    @Test
    void a_to_alone_covers_its_month_up_to_it_and_a_from_alone_runs_to_today() {
        assertThat(UsageRange.parse(null, "2026-02-10", TODAY))
                .isEqualTo(new UsageRange(LocalDate.parse("2026-02-01"), LocalDate.parse("2026-02-10")));
        assertThat(UsageRange.parse("2025-12-25", null, TODAY)).isEqualTo(new UsageRange(LocalDate.parse("2025-12-25"), TODAY));
    }

    @Test
    void a_range_of_366_days_is_answered_and_one_of_367_is_refused_at_from() {
        assertThat(UsageRange.parse("2025-03-17", "2026-03-17", TODAY).days()).isEqualTo(366);
        assertThatThrownBy(() -> UsageRange.parse("2025-03-16", "2026-03-17", TODAY))
                .isInstanceOfSatisfying(UsageRange.Invalid.class, e -> {
                    assertThat(e.parameter()).isEqualTo("from");
                    assertThat(e.type()).isEqualTo("value_error");
                    assertThat(e.getMessage()).contains("367 days").contains("366");
                });
    }

    @Test
    void a_from_after_to_is_refused() {
        assertThatThrownBy(() -> UsageRange.parse("2026-03-02", "2026-03-01", TODAY))
                .isInstanceOfSatisfying(UsageRange.Invalid.class, e -> assertThat(e.getMessage()).contains("after"));
    }

    @Test
    void anything_but_a_calendar_date_as_yyyy_mm_dd_is_refused_naming_the_parameter() {
        for (String bad : new String[] {"", "2026-3-1", "2026-02-30", "+12026-01-01", "20260301", "2026-03-01T00:00", "today"}) {
            assertThatThrownBy(() -> UsageRange.parse("2026-03-01", bad, TODAY)).as(bad)
                    .isInstanceOfSatisfying(UsageRange.Invalid.class, e -> {
                        assertThat(e.parameter()).isEqualTo("to");
                        assertThat(e.type()).isEqualTo("date_parsing");
                        assertThat(e.getMessage()).doesNotContain(bad.isEmpty() ? "\u0000" : bad);
                    });
        }
    }
}
