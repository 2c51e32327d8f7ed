package io.genqueue.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.auth.ApiKey;
import io.genqueue.auth.KeyChange;
import io.genqueue.auth.KeyLimits;
import io.genqueue.auth.KeyStore;
import io.genqueue.auth.Keys;
import io.genqueue.auth.NewKey;
import io.genqueue.generation.Violation;
import io.genqueue.usage.UsageCount;
import io.genqueue.usage.UsageRange;
import io.genqueue.usage.UsageReport;
import io.genqueue.usage.UsageStore;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.math.BigDecimal;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API, for admin keys only ({@code keys create --admin}; 401 without a valid key, 403 with
 * another key): the keys ({@code GET}/{@code POST /v1/admin/keys}, {@code PATCH}/{@code DELETE
 * /v1/admin/keys/{id}}) and every tenant's usage ({@code GET /v1/admin/usage}). The same operations as
 * the {@code keys} command, on the same {@link KeyStore} with the same checks of limit values
 * ({@link KeyLimits}), and the same usage report and date parsing as {@code GET /v1/usage}.
 *
 * <p>A key's secret is in the answer to its creation and nowhere else: never in a later answer or a
 * log line. Each action is logged on one info line naming the admin key by its public id. An admin key
 * is a key of its tenant everywhere else: the queue routes show it only its own tenant's requests.
 */
final class AdminRoutes {

    private static final Logger log = LoggerFactory.getLogger(AdminRoutes.class);

    /** The body fields of a key's limits, as the API names them. */
    private static final Map<KeyLimits.Field, String> FIELDS = Map.of(KeyLimits.Field.RATE, "rate", KeyLimits.Field.BURST, "burst",
            KeyLimits.Field.MAX_QUEUED, "max_queued", KeyLimits.Field.DAILY_IMAGES, "daily_images");
    private static final Set<String> CHANGE_FIELDS = Set.of("rate", "burst", "max_queued", "daily_images", "admin");
    private static final Set<String> CREATE_FIELDS = Set.of("tenant", "rate", "burst", "max_queued", "daily_images", "admin");

    private final Authenticator auth;
    private final KeyStore keys;
    private final UsageStore usage;
    private final Map<String, java.math.BigDecimal> prices;
    private final JsonBody bodies;
    private final Clock clock;

    /** @param prices each served model's price per image, by id, for the usage's {@code cost_usd} */
    AdminRoutes(Authenticator auth, KeyStore keys, UsageStore usage, Map<String, java.math.BigDecimal> prices, long maxBodyBytes,
            Clock clock) {
        this.prices = Map.copyOf(prices);
        this.auth = auth;
        this.keys = keys;
        this.usage = usage;
        this.bodies = new JsonBody(maxBodyBytes, "an admin request is a small JSON object.");
        this.clock = clock;
    }

    /** {@code GET /v1/admin/keys}: every key, revoked ones included, oldest first as the store lists them. */
    void list(ServerRequest req, ServerResponse res) {
        ApiKey admin = auth.admin(req);
        List<Map<String, Object>> all = keys.list().stream().map(AdminRoutes::view).toList();
        log.info("Admin key {} listed the keys ({}).", admin.keyId(), all.size());
        Responses.json(res, 200, Map.of("keys", all));
    }

    /** {@code POST /v1/admin/keys}: a new key with the limits given; 201 with its secret, shown this once. */
    void create(ServerRequest req, ServerResponse res) {
        ApiKey admin = auth.admin(req);
        JsonNode body = bodies.read(req);
        List<Violation> violations = new ArrayList<>();
        checkObject(body, CREATE_FIELDS, violations);
        String tenant = null;
        JsonNode tenantNode = body.isObject() ? body.get("tenant") : null;
        if (body.isObject() && tenantNode == null) {
            violations.add(Violation.body("tenant", "Field required", "missing"));
        } else if (tenantNode != null && !tenantNode.isTextual()) {
            violations.add(Violation.body("tenant", "Input should be a valid string", "string_type"));
        } else if (tenantNode != null) {
            try {
                tenant = Keys.checkTenant(tenantNode.textValue());
            } catch (IllegalArgumentException e) {
                violations.add(Violation.body("tenant", "The tenant name must be 1 to 64 letters, digits, '.', '_' or '-', "
                        + "starting with a letter or digit.", "value_error"));
            }
        }
        KeyChange change = change(body, violations);
        if (!violations.isEmpty()) {
            throw ErrorMapper.validation(violations);
        }
        KeyLimits limits = limits(() -> KeyLimits.NONE.with(change));
        NewKey made = keys.create(tenant, limits, Boolean.TRUE.equals(change.admin()));
        log.info("Admin key {} created key {} for tenant {}{}.", admin.keyId(), made.key().keyId(), tenant,
                made.key().admin() ? " (an admin key)" : "");
        Map<String, Object> answer = view(made.key());
        answer.put("secret", made.secret());
        Responses.json(res, 201, answer);
    }

    /** {@code PATCH /v1/admin/keys/{id}}: the limits (0 removes one) or admin flag given; the rest stays. */
    void update(ServerRequest req, ServerResponse res) {
        ApiKey admin = auth.admin(req);
        String id = req.path().pathParameters().get("id");
        JsonNode body = bodies.read(req);
        List<Violation> violations = new ArrayList<>();
        checkObject(body, CHANGE_FIELDS, violations);
        KeyChange change = change(body, violations);
        if (violations.isEmpty() && change.empty()) {
            violations.add(new Violation(List.of("body"), "Nothing to change: give rate, burst, max_queued, daily_images or admin.",
                    "missing"));
        }
        if (!violations.isEmpty()) {
            throw ErrorMapper.validation(violations);
        }
        ApiKey updated = limits(() -> keys.update(id, change)).orElseThrow(AdminRoutes::noSuchKey);
        log.info("Admin key {} changed key {} of tenant {}: {}.", admin.keyId(), updated.keyId(), updated.tenant(),
                describe(updated));
        Responses.json(res, 200, view(updated));
    }

    /** {@code DELETE /v1/admin/keys/{id}}: revokes the key (again is no error); 200 with the key as it is now. */
    void revoke(ServerRequest req, ServerResponse res) {
        ApiKey admin = auth.admin(req);
        String id = req.path().pathParameters().get("id");
        if (!keys.revoke(id)) {
            throw noSuchKey();
        }
        ApiKey revoked = keys.list().stream().filter(k -> k.keyId().equals(id)).findFirst().orElseThrow(AdminRoutes::noSuchKey);
        log.info("Admin key {} revoked key {} of tenant {}.", admin.keyId(), revoked.keyId(), revoked.tenant());
        Responses.json(res, 200, view(revoked));
    }

    /**
     * {@code GET /v1/admin/usage?from&to[&tenant]}: every tenant's usage (or one's), per tenant, UTC day and
     * model, with each tenant's totals and the sum.
     */
    void usage(ServerRequest req, ServerResponse res) {
        ApiKey admin = auth.admin(req);
        UsageRange range = UsageRoute.range(req, clock);
        Optional<String> tenant = Optional.ofNullable(req.query().first("tenant").orElse(null));
        if (tenant.isPresent()) {
            try {
                Keys.checkTenant(tenant.get());
            } catch (IllegalArgumentException e) {
                throw ErrorMapper.validation(List.of(new Violation(List.of("query", "tenant"),
                        "A tenant name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.", "value_error")));
            }
        }
        List<UsageCount> counts = usage.counts(tenant, range);
        UsageReport report = UsageReport.of(range, counts);
        Map<String, List<UsageCount>> byTenant = counts.stream()
                .collect(Collectors.groupingBy(UsageCount::tenant, TreeMap::new, Collectors.toList()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("tenant", tenant.orElse(null));
        body.put("from", range.from().toString());
        body.put("to", range.to().toString());
        body.put("days", report.rows().stream().map(row -> UsageRoute.day(row, true, prices)).toList());
        body.put("tenants", byTenant.entrySet().stream().map(e -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("tenant", e.getKey());
            one.put("totals", UsageRoute.totals(UsageReport.of(range, e.getValue()), prices));
            return one;
        }).toList());
        body.put("totals", UsageRoute.totals(report, prices));
        log.info("Admin key {} read the usage of {} from {} to {}.", admin.keyId(),
                tenant.map(t -> "tenant " + t).orElse("every tenant"), range.from(), range.to());
        Responses.json(res, 200, body);
    }

    // ---------------------------------------------------------------- bodies

    private static void checkObject(JsonNode body, Set<String> allowed, List<Violation> violations) {
        if (!body.isObject()) {
            violations.add(new Violation(List.of("body"), "Input should be a JSON object", "model_attributes_type"));
            return;
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                violations.add(new Violation(List.of("body", name.length() <= 64 ? name : name.substring(0, 64) + "..."), "Extra inputs are not permitted",
                        "extra_forbidden"));
            }
        }
    }

    /** The limit fields and admin flag of {@code body}, each null when absent; a field of the wrong type is a violation. */
    private static KeyChange change(JsonNode body, List<Violation> violations) {
        if (!body.isObject()) {
            return new KeyChange(null, null, null, null, null);
        }
        Double rate = null;
        JsonNode r = body.get("rate");
        if (r != null) {
            if (r.isNumber() && Double.isFinite(r.doubleValue())) {
                rate = r.doubleValue();
            } else if (r.isTextual()) {
                try {
                    rate = KeyLimits.parseRate(r.textValue()); // as keys create --rate reads it: 5, 0.5, 5/s
                } catch (IllegalArgumentException e) {
                    violations.add(Violation.body("rate", "Input should be requests per second: a number such as 5 or 0.5, "
                            + "or a string such as \"5/s\"", "float_parsing"));
                }
            } else {
                violations.add(Violation.body("rate", "Input should be a valid number (requests per second)", "float_type"));
            }
        }
        Integer burst = integer(body, "burst", violations);
        Integer maxQueued = integer(body, "max_queued", violations);
        Integer dailyImages = integer(body, "daily_images", violations);
        Boolean admin = null;
        JsonNode a = body.get("admin");
        if (a != null) {
            if (a.isBoolean()) {
                admin = a.booleanValue();
            } else {
                violations.add(Violation.body("admin", "Input should be a valid boolean", "bool_type"));
            }
        }
        return new KeyChange(rate, burst, maxQueued, dailyImages, admin);
    }

    private static Integer integer(JsonNode body, String field, List<Violation> violations) {
        JsonNode n = body.get(field);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            violations.add(Violation.body(field, "Input should be a valid integer (0 for no limit)", "int_type"));
            return null;
        }
        return n.intValue();
    }

    /** Runs a change of limits; a value no key may have ({@link KeyLimits.Invalid}) is a 422 at its field. */
    private static <T> T limits(java.util.function.Supplier<T> apply) {
        try {
            return apply.get();
        } catch (KeyLimits.Invalid e) {
            throw ErrorMapper.validation(List.of(Violation.body(FIELDS.get(e.field()), capitalized(e.getMessage()) + ".",
                    "value_error")));
        }
    }

    private static String capitalized(String message) {
        return message.isEmpty() ? message : message.substring(0, 1).toUpperCase(Locale.ROOT) + message.substring(1);
    }

    private static ApiError noSuchKey() {
        return ApiError.detail(404, "No key with this id; GET /v1/admin/keys lists them.");
    }

    // ---------------------------------------------------------------- answers

    /** A key as the admin API shows it: never its secret or digest. 0 in a limit is no limit. */
    private static Map<String, Object> view(ApiKey key) {
        KeyLimits l = key.limits();
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("rate", new BigDecimal(KeyLimits.formatRate(l.rate())));
        limits.put("burst", l.burst());
        limits.put("max_queued", l.maxQueued());
        limits.put("daily_images", l.dailyImages());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", key.keyId());
        out.put("tenant", key.tenant());
        out.put("created_at", key.createdAt().toString());
        out.put("revoked_at", key.revoked() ? key.revokedAt().toString() : null);
        out.put("admin", key.admin());
        out.put("limits", limits);
        return out;
    }

    /** The limits for a log line: {@code rate 5/s, burst 10, max_queued 0, daily_images 0, admin false}. */
    private static String describe(ApiKey key) {
        KeyLimits l = key.limits();
        return "rate " + KeyLimits.formatRate(l.rate()) + "/s, burst " + l.burst() + ", max_queued " + l.maxQueued()
                + ", daily_images " + l.dailyImages() + ", admin " + key.admin();
    }
}
