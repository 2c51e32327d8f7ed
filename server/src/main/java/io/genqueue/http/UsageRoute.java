package io.genqueue.http;

import io.genqueue.generation.Violation;
import io.genqueue.usage.UsageRange;
import io.genqueue.usage.UsageReport;
import io.genqueue.usage.UsageStore;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /v1/usage?from=YYYY-MM-DD&to=YYYY-MM-DD}: the caller's own tenant's usage, per UTC day
 * and model, with totals (the README's "Usage" has the body). Dates are UTC days, both ends
 * included; {@link UsageRange} sets the defaults and the limit. A bad date is a 422 detail at
 * {@code ["query","from"]} or {@code ["query","to"]}.
 */
final class UsageRoute {

    private final Authenticator auth;
    private final UsageStore usage;
    private final Clock clock;
    private final Map<String, BigDecimal> prices;

    /** @param prices each served model's price per image (US dollars), by id, for {@code cost_usd} */
    UsageRoute(Authenticator auth, UsageStore usage, Map<String, BigDecimal> prices, Clock clock) {
        this.prices = Map.copyOf(prices);
        this.auth = auth;
        this.usage = usage;
        this.clock = clock;
    }

    void handle(ServerRequest req, ServerResponse res) {
        String tenant = auth.key(req).tenant();
        UsageRange range = range(req, clock);
        UsageReport report = UsageReport.of(range, usage.counts(Optional.of(tenant), range));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("tenant", tenant);
        body.put("from", range.from().toString());
        body.put("to", range.to().toString());
        body.put("days", report.rows().stream().map(row -> day(row, false, prices)).toList());
        body.put("totals", totals(report, prices));
        Responses.json(res, 200, body);
    }

    /** The days a usage route is asked about ({@code from}, {@code to}). @throws ApiError 422 at {@code ["query", name]} */
    static UsageRange range(ServerRequest req, Clock clock) {
        try {
            return UsageRange.parse(req.query().first("from").orElse(null), req.query().first("to").orElse(null),
                    LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC));
        } catch (UsageRange.Invalid e) {
            throw ErrorMapper.validation(List.of(new Violation(List.of("query", e.parameter()), e.getMessage(), e.type())));
        }
    }

    /** One row of {@code days}: its date, model (and tenant, when the answer covers several) and figures. */
    static Map<String, Object> day(UsageReport.Row row, boolean withTenant, Map<String, BigDecimal> prices) {
        Map<String, Object> day = new LinkedHashMap<>();
        if (withTenant) {
            day.put("tenant", row.tenant());
        }
        day.put("date", row.day().toString());
        day.put("model", row.model());
        day.putAll(figures(row.figures()));
        day.put("cost_usd", UsageReport.cost(row, prices::get));
        return day;
    }

    /** A report's totals, with the cost of all its rows. */
    static Map<String, Object> totals(UsageReport report, Map<String, BigDecimal> prices) {
        Map<String, Object> out = figures(report.totals());
        out.put("cost_usd", report.totalCost(prices::get));
        return out;
    }

    /** The figures as the API shows them: provider time in seconds, to the millisecond. */
    static Map<String, Object> figures(UsageReport.Figures f) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("submitted", f.submitted());
        out.put("succeeded", f.succeeded());
        out.put("failed", f.failed());
        out.put("failed_by_error_type", f.failedByErrorType());
        out.put("cancelled", f.cancelled());
        out.put("images", f.images());
        Map<String, BigDecimal> seconds = new LinkedHashMap<>();
        f.providerMillis().forEach((provider, ms) -> seconds.put(provider, BigDecimal.valueOf(ms, 3)));
        out.put("provider_seconds", seconds);
        return out;
    }
}
