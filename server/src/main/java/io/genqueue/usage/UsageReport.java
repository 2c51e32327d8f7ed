package io.genqueue.usage;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Usage over a range: one row per tenant, UTC day and model that saw any activity (days without
 * any are left out), ordered by tenant, day and model, and their totals. What the API's
 * {@code GET /v1/usage} and the {@code usage} command both show.
 */
public record UsageReport(UsageRange range, List<Row> rows, Figures totals) {

    public UsageReport {
        rows = List.copyOf(rows);
    }

    /** One tenant's figures for one UTC day and model. */
    public record Row(String tenant, LocalDate day, String model, Figures figures) {
    }

    /**
     * What was counted.
     *
     * @param failedByErrorType failures by the job's {@code error_type}, sorted by it; they sum to {@link #failed}
     * @param providerMillis time of succeeded runs by the provider that made the images, sorted by provider (the
     *     time of failed and cancelled runs is not attributed: which providers a failed run tried is not recorded)
     */
    public record Figures(long submitted, long succeeded, long failed, Map<String, Long> failedByErrorType, long cancelled,
            long images, Map<String, Long> providerMillis) {

        public Figures {
            failedByErrorType = Collections.unmodifiableMap(new TreeMap<>(failedByErrorType));
            providerMillis = Collections.unmodifiableMap(new TreeMap<>(providerMillis));
        }

        static final Figures NONE = new Figures(0, 0, 0, Map.of(), 0, 0, Map.of());

        Figures plus(Figures o) {
            return new Figures(submitted + o.submitted, succeeded + o.succeeded, failed + o.failed,
                    merged(failedByErrorType, o.failedByErrorType), cancelled + o.cancelled, images + o.images,
                    merged(providerMillis, o.providerMillis));
        }

        static Figures of(UsageCount c) {
            return switch (c.counted()) {
                case SUBMITTED -> new Figures(c.requests(), 0, 0, Map.of(), 0, 0, Map.of());
                // a success counted before providers were recorded (V6) has no provider to name
                case SUCCEEDED -> new Figures(0, c.requests(), 0, Map.of(), 0, c.images(),
                        c.provider().isEmpty() ? Map.of() : Map.of(c.provider(), c.providerMillis()));
                case FAILED -> new Figures(0, 0, c.requests(), Map.of(c.errorType(), c.requests()), 0, 0, Map.of());
                case CANCELLED -> new Figures(0, 0, 0, Map.of(), c.requests(), 0, Map.of());
            };
        }

        private static Map<String, Long> merged(Map<String, Long> a, Map<String, Long> b) {
            Map<String, Long> out = new TreeMap<>(a);
            b.forEach((k, v) -> out.merge(k, v, Long::sum));
            return out;
        }
    }

    /**
     * What a row's images cost: its images times its model's price per image ({@code price}, US dollars;
     * a model without one, such as a model no longer served, costs zero).
     */
    public static BigDecimal cost(Row row, Function<String, BigDecimal> price) {
        BigDecimal each = price.apply(row.model());
        return each == null ? BigDecimal.ZERO : each.multiply(BigDecimal.valueOf(row.figures().images()));
    }

    /** The cost of every row, summed (see {@link #cost(Row, Function)}). */
    public BigDecimal totalCost(Function<String, BigDecimal> price) {
        return rows.stream().map(r -> cost(r, price)).reduce(BigDecimal.ZERO, BigDecimal::add);
    }

    /** The report of {@code counts}, as a {@link UsageStore} answered them for {@code range}. */
    public static UsageReport of(UsageRange range, List<UsageCount> counts) {
        record Key(String tenant, LocalDate day, String model) {
        }
        Map<Key, Figures> byKey = new TreeMap<>(Comparator.comparing(Key::tenant).thenComparing(Key::day).thenComparing(Key::model));
        Figures totals = Figures.NONE;
        for (UsageCount c : counts) {
            Figures f = Figures.of(c);
            byKey.merge(new Key(c.tenant(), c.day(), c.model()), f, Figures::plus);
            totals = totals.plus(f);
        }
        List<Row> rows = new ArrayList<>(byKey.size());
        byKey.forEach((k, f) -> rows.add(new Row(k.tenant(), k.day(), k.model(), f)));
        return new UsageReport(range, rows, totals);
    }
}
