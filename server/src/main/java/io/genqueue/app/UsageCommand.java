package io.genqueue.app;

import io.genqueue.auth.Keys;
import io.genqueue.store.postgres.PostgresUsageStore;
import io.genqueue.store.sqlite.SqliteDatabase;
import io.genqueue.store.sqlite.SqliteUsageStore;
import io.genqueue.usage.UsageCount;
import io.genqueue.usage.UsageRange;
import io.genqueue.usage.UsageReport;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code usage [--tenant T] [--from YYYY-MM-DD] [--to YYYY-MM-DD]}: a table of usage per tenant,
 * UTC day and model, for operators, read from the store the settings name. Safe beside a running
 * server (it only reads). The range has the API's defaults and limit ({@link UsageRange}).
 */
@Command(name = "usage", mixinStandardHelpOptions = true,
        description = "Print usage per tenant, UTC day and model: submitted, succeeded, failed, cancelled, images, provider seconds.")
final class UsageCommand extends KeysCommand.DataDirOption implements Runnable {

    @Option(names = "--tenant", description = "Only this tenant (default: every tenant).")
    String tenant;

    @Option(names = "--from", description = "First UTC day, YYYY-MM-DD (default: the first day of --to's month).")
    String from;

    @Option(names = "--to", description = "Last UTC day, YYYY-MM-DD (default: today, UTC).")
    String to;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        if (tenant != null) {
            Keys.checkTenant(tenant);
        }
        UsageRange range;
        try {
            range = UsageRange.parse(from, to, LocalDate.now(ZoneOffset.UTC));
        } catch (UsageRange.Invalid e) {
            throw new IllegalArgumentException("--" + e.parameter() + ": " + e.getMessage(), e);
        }
        UsageReport report = UsageReport.of(range, counts(range));
        PrintWriter out = spec.commandLine().getOut();
        out.println("Usage from " + range.from() + " to " + range.to() + " (UTC days, both included)"
                + (tenant == null ? "" : " for tenant '" + tenant + "'") + ":");
        io.genqueue.catalog.Catalog catalog = settings().catalog(); // the cost is the served models' price per image
        java.util.function.Function<String, BigDecimal> price = model -> catalog.find(model)
                .map(io.genqueue.catalog.Model::pricePerImage).orElse(null);
        String format = "%-24s %-10s %-16s %9s %9s %6s %9s %6s %9s  %-24s %s%n";
        out.printf(format, "TENANT", "DATE", "MODEL", "SUBMITTED", "SUCCEEDED", "FAILED", "CANCELLED", "IMAGES", "COST USD",
                "PROVIDER SECONDS", "FAILED BY ERROR TYPE");
        for (UsageReport.Row row : report.rows()) {
            line(out, format, row.tenant(), row.day().toString(), row.model(), row.figures(), UsageReport.cost(row, price));
        }
        line(out, format, "TOTAL", "", "", report.totals(), report.totalCost(price));
        out.flush();
    }

    private List<UsageCount> counts(UsageRange range) {
        Settings settings = settings();
        Optional<String> only = Optional.ofNullable(tenant);
        if (settings.storage().postgres()) {
            try (PostgresUsageStore usage = PostgresUsageStore.open(Application.postgresConfig(settings))) {
                return usage.counts(only, range);
            }
        }
        try (SqliteUsageStore usage = SqliteUsageStore.open(SqliteDatabase.open(settings.dataDir()))) {
            return usage.counts(only, range);
        }
    }

    private static void line(PrintWriter out, String format, String tenant, String day, String model, UsageReport.Figures f,
            BigDecimal cost) {
        out.printf(format, tenant, day, model, f.submitted(), f.succeeded(), f.failed(), f.cancelled(), f.images(),
                cost.setScale(3, java.math.RoundingMode.HALF_UP).toPlainString(),
                pairs(f.providerMillis(), ms -> BigDecimal.valueOf(ms, 3).toPlainString()),
                pairs(f.failedByErrorType(), String::valueOf));
    }

    private static String pairs(Map<String, Long> values, java.util.function.LongFunction<String> show) {
        return values.isEmpty() ? "-" : values.entrySet().stream().map(e -> e.getKey() + "=" + show.apply(e.getValue()))
                .collect(Collectors.joining(","));
    }
}
