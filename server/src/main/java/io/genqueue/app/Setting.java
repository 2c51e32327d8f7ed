package io.genqueue.app;

import io.genqueue.http.MetricsAccess;
import io.genqueue.limit.FreeDiskGate;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every setting of the service, in one table: its environment name, default, meaning, and parser.
 * The README's settings table is generated from this list (and a test checks they agree).
 */
enum Setting {
    PORT("GENQUEUE_PORT", "8080", "HTTP port (flag `--port`).", v -> intIn(v, 0, 65535)),
    HOST("GENQUEUE_HOST", "0.0.0.0", "Address to listen on (flag `--host`).", Setting::nonEmpty),
    DATA_DIR("GENQUEUE_DATA_DIR", "./data", "Directory for the database, images and secrets (flag `--data-dir`).",
            v -> Path.of(nonEmpty(v))),
    ROLE("GENQUEUE_ROLE", "all", "What this process does (flag `--role`): `api` serves HTTP, `worker` runs jobs, `all` both. "
            + "Every role runs the sweeps.", Role::parse),
    STORE("GENQUEUE_STORE", "", "Job and key store: empty for SQLite in the data directory; `postgresql://user@host:port/db` "
            + "(or a `jdbc:postgresql:` URL) for many processes.", Setting::store),
    STORE_POLL("GENQUEUE_STORE_POLL", "1s", "PostgreSQL: how often workers look for jobs besides the LISTEN/NOTIFY wake-ups; also the longest a server caches API keys, so a revoked key whose notification was lost stops working on other processes within it.",
            v -> atLeast(duration(v), Duration.ofMillis(10))),
    STORE_POLL_ONLY("GENQUEUE_STORE_POLL_ONLY", "false", "PostgreSQL: no LISTEN/NOTIFY, polling only (for poolers in "
            + "transaction mode).", Setting::bool),
    BLOBS("GENQUEUE_BLOBS", "", "Image store: empty for files in the data directory; `s3://bucket/prefix` for an "
            + "S3-compatible bucket (links are then presigned).", Setting::blobs),
    S3_ENDPOINT("GENQUEUE_S3_ENDPOINT", "", "S3 API endpoint of an S3-compatible server; empty for AWS.", v -> v),
    S3_REGION("GENQUEUE_S3_REGION", "", "S3 signing region; empty: `AWS_REGION` or the profile, else `us-east-1` "
            + "with an endpoint.", v -> v),
    S3_PATH_STYLE("GENQUEUE_S3_PATH_STYLE", "false", "Address the bucket as `endpoint/bucket` (most S3-compatible "
            + "servers need this).", Setting::bool),
    S3_ACCESS_KEY("GENQUEUE_S3_ACCESS_KEY", "", "S3 access key; empty: `AWS_ACCESS_KEY_ID` and the SDK's default chain.",
            v -> v),
    S3_SECRET_KEY("GENQUEUE_S3_SECRET_KEY", "", "S3 secret key (never logged); empty: `AWS_SECRET_ACCESS_KEY` and the "
            + "default chain.", v -> v),
    PUBLIC_URL("GENQUEUE_PUBLIC_URL", "", "Base of the absolute URLs handed out, e.g. `https://gen.example.com`; "
            + "empty: from `Host` and `X-Forwarded-*`.", Setting::publicUrl),
    MODELS("GENQUEUE_MODELS", "", "Comma-separated catalog ids of the models served under `/v1/queue/{model}`; empty: every "
            + "model of the catalog (built-in and `GENQUEUE_CATALOG`'s).", Setting::models),
    CATALOG("GENQUEUE_CATALOG", "", "A catalog file (JSON, the format of the built-in one; see Models) whose models are added "
            + "to the built-in ones, or replace the one of the same id; read once at start, a bad entry stops it.",
            v -> v.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(Path.of(v.strip()))),
    OPENAI_MODEL("GENQUEUE_OPENAI_MODEL", "", "Model of an OpenAI images call (`/v1/images/generations`, "
            + "`/v1/images/edits`) that names no `model`; one of the served models (`GENQUEUE_MODELS`); empty: the first of "
            + "them in the catalog's order (`nano_banana` when it is served).", String::strip),
    OPENAI_TIMEOUT("GENQUEUE_OPENAI_TIMEOUT", "300s", "Longest an OpenAI images call waits for its images; then it is `504` "
            + "and its request is cancelled.", v -> atLeast(duration(v), Duration.ofSeconds(1))),
    WORKERS("GENQUEUE_WORKERS", "4", "Worker slots: jobs run at once. 0 accepts and stores requests but runs none.",
            v -> intIn(v, 0, 10_000)),
    PREVIEW_DELAY_MS("GENQUEUE_PREVIEW_DELAY_MS", "0", "Simulated latency of the preview provider, in milliseconds.",
            v -> Duration.ofMillis(intIn(v, 0, 3_600_000))),
    MAX_BODY_BYTES("GENQUEUE_MAX_BODY_BYTES", "1048576", "Largest submit body; larger is 413.", v -> longIn(v, 1024, 64L << 20)),
    MAX_QUEUED("GENQUEUE_MAX_QUEUED", "0", "Backpressure: with this many requests waiting in the queue (all tenants and models), "
            + "a submit is `503` with `Retry-After` until it drains. 0: no limit (how deep a queue the disk holds is the "
            + "deployment's to say). Read at most once per `GENQUEUE_STORE_POLL` on PostgreSQL, so it is a soft bound.",
            v -> longIn(v, 0, Long.MAX_VALUE)),
    MIN_FREE_DISK("GENQUEUE_MIN_FREE_DISK", "256MB", "Free-space watermark of the disk under the data directory: a size "
            + "(`512MB`, `2GB`; units of 1024) or a share of the disk (`5%`). Below it submits are `503` with `Retry-After`, "
            + "`/readyz` is `503` naming the reason, and workers start no job; above it again all resumes by itself. Sampled "
            + "every second. Applies while the data directory holds the SQLite store or the images; `0` turns it off.",
            Setting::watermark),
    MAX_ATTEMPTS("GENQUEUE_MAX_ATTEMPTS", "3", "Runs a job gets (retryable failures, lost workers) before it fails.",
            v -> intIn(v, 1, 100)),
    RETRY_BASE("GENQUEUE_RETRY_BASE", "1s", "First retry delay; it doubles per attempt, with full jitter.", Setting::duration),
    RETRY_MAX("GENQUEUE_RETRY_MAX", "60s", "Longest retry delay.", Setting::duration),
    LEASE("GENQUEUE_LEASE", "30s", "Lease of a running job; renewed every third of it. A job whose lease runs out is requeued.",
            v -> atLeast(duration(v), Duration.ofMillis(300))),
    RETENTION("GENQUEUE_RETENTION", "7d", "How long results and their images are kept; then the result is 410.",
            v -> atLeast(duration(v), Duration.ofSeconds(1))),
    LINK_TTL("GENQUEUE_LINK_TTL", "24h", "Lifetime of signed image links (rounded up to the hour).",
            v -> atLeast(duration(v), Duration.ofSeconds(1))),
    LINK_SECRET("GENQUEUE_LINK_SECRET", "", "Secret (32+ characters) that signs image links; empty: one is generated "
            + "and kept in the data directory.", Setting::linkSecret),
    WEBHOOK_KEY_LEAD("GENQUEUE_WEBHOOK_KEY_LEAD", "24h", "How long the key that `webhook-keys rotate` makes is in "
            + "`/.well-known/jwks.json` before it signs, so receivers that cache the JWKS (fal suggests up to 24 h) hold it first "
            + "(kept with the key; `rotate --lead` overrides it, `0s` after a leak).", Setting::duration),
    WEBHOOK_KEY_GRACE("GENQUEUE_WEBHOOK_KEY_GRACE", "24h", "How long the webhook signing key that `webhook-keys rotate` replaces "
            + "stays in `/.well-known/jwks.json` after its last signature (kept with the key; `rotate --grace` overrides it, "
            + "`0s` after a leak).", Setting::duration),
    WEBHOOK_FIRST_RETRY("GENQUEUE_WEBHOOK_FIRST_RETRY", "15s", "Bound of the wait before a failed webhook's first retry; "
            + "it doubles per try, with full jitter.", v -> atLeast(duration(v), Duration.ofMillis(1))),
    WEBHOOK_TRIES("GENQUEUE_WEBHOOK_TRIES", "10", "Delivery attempts of a webhook, the first included, before it is given up.",
            v -> intIn(v, 1, 30)),
    WEBHOOK_TIMEOUT("GENQUEUE_WEBHOOK_TIMEOUT", "10s", "Time a webhook receiver has to connect, and again to answer.",
            v -> atLeast(duration(v), Duration.ofMillis(100))),
    SHUTDOWN_GRACE("GENQUEUE_SHUTDOWN_GRACE", "30s", "On SIGTERM, how long running jobs may finish before they are requeued.",
            Setting::duration),
    FETCH_TIMEOUT("GENQUEUE_FETCH_TIMEOUT", "10s", "Time limit for fetching one reference image, redirects included.",
            v -> atLeast(duration(v), Duration.ofMillis(100))),
    FETCH_MAX_BYTES("GENQUEUE_FETCH_MAX_BYTES", "7340032", "Largest reference image, in bytes (7 MiB).",
            v -> longIn(v, 1024, 1L << 30)),
    FETCH_MAX_REDIRECTS("GENQUEUE_FETCH_MAX_REDIRECTS", "3", "Redirects followed when fetching a reference image.",
            v -> intIn(v, 0, 20)),
    FETCH_MAX_PIXELS("GENQUEUE_FETCH_MAX_PIXELS", "25000000", "Largest reference image, in pixels (width x height).",
            v -> longIn(v, 1, 1L << 31)),
    FETCH_ALLOW("GENQUEUE_FETCH_ALLOW", "", "Comma-separated `host:port` entries exempt from the reference-image address "
            + "checks (tests, private deployments).", Setting::hostPorts),
    REQUEST_TIMEOUT("GENQUEUE_REQUEST_TIMEOUT", "30s", "Time a client has to send a whole request (head and body); "
            + "then its connection is closed.", v -> atLeast(duration(v), Duration.ofSeconds(1))),
    STREAM_KEEPALIVE("GENQUEUE_STREAM_KEEPALIVE", "15s", "Silence after which a status stream sends a `: keep-alive` comment.",
            v -> atLeast(duration(v), Duration.ofMillis(100))),
    METRICS("GENQUEUE_METRICS", "open", "Who may read `GET /metrics` (Prometheus text): `open` anyone who reaches the port, "
            + "`admin` only admin keys, `off` nobody (404).", Setting::metricsAccess),
    METRICS_PORT("GENQUEUE_METRICS_PORT", "", "Serve `/metrics` on this port of its own (also in role `worker`) instead of "
            + "the API's port; empty: on the API's port.", v -> v.isEmpty() ? null : intIn(v, 0, 65535)),
    METRICS_TENANT_LABEL("GENQUEUE_METRICS_TENANT_LABEL", "false", "Label the request counters with the tenant too "
            + "(one series per tenant and model: mind the cardinality).", Setting::bool),
    PROVIDERS("GENQUEUE_PROVIDERS", "", "Comma-separated providers in order of preference: `gemini`, `openrouter`, `fal`, "
            + "`preview`. Empty: those with a key, in that order; `preview` when none has one.", Setting::providers),
    GEMINI_API_KEY("GEMINI_API_KEY", "", "Key for the Gemini API (sent as `x-goog-api-key`; never logged).", v -> v),
    OPENROUTER_API_KEY("OPENROUTER_API_KEY", "", "Key for OpenRouter (sent as a bearer token; never logged).", v -> v),
    FAL_KEY("FAL_KEY", "", "Key for fal.ai (sent as `Authorization: Key ...`; never logged).", v -> v),
    GEMINI_BASE_URL("GENQUEUE_GEMINI_BASE_URL", "https://generativelanguage.googleapis.com",
            "Root of the Gemini API (an emulator or a proxy in its place).", Setting::baseUrl),
    OPENROUTER_BASE_URL("GENQUEUE_OPENROUTER_BASE_URL", "https://openrouter.ai/api", "Root of the OpenRouter API.",
            Setting::baseUrl),
    FAL_BASE_URL("GENQUEUE_FAL_BASE_URL", "https://queue.fal.run", "Root of fal's queue API.", Setting::baseUrl),
    PROVIDER_CONCURRENCY("GENQUEUE_PROVIDER_CONCURRENCY", "0", "Calls in flight per provider; more jobs wait in the queue. "
            + "0: as many as `GENQUEUE_WORKERS`.", v -> intIn(v, 0, 10_000)),
    PROVIDER_CONNECT_TIMEOUT("GENQUEUE_PROVIDER_CONNECT_TIMEOUT", "10s", "Time limit for connecting to a provider.",
            v -> atLeast(duration(v), Duration.ofMillis(10))),
    PROVIDER_TIMEOUT("GENQUEUE_PROVIDER_TIMEOUT", "120s", "Time limit for one provider call, from sending to the last byte.",
            v -> atLeast(duration(v), Duration.ofMillis(10))),
    PROVIDER_RETRIES("GENQUEUE_PROVIDER_RETRIES", "2", "Retries of a retryable failure on the same provider before falling "
            + "back to the next.", v -> intIn(v, 0, 10)),
    PROVIDER_MAX_WAIT("GENQUEUE_PROVIDER_MAX_WAIT", "30s", "Longest delay waited between retries while holding a slot; "
            + "a provider asking for more is left for the next provider, or the job waits in the queue.", Setting::duration),
    BREAKER_OPEN("GENQUEUE_BREAKER_OPEN", "30s", "How long a provider's circuit stays open after half of its last 20 calls "
            + "(at least 5) failed; then one probe call decides. `0s` turns the breakers off.", Setting::duration),
    READERS("GENQUEUE_READERS", "4", "Database read connections.", v -> intIn(v, 1, 64)),
    LOG_LEVEL("GENQUEUE_LOG_LEVEL", "info", "Log level: error, warn, info, debug or trace. The access lines (logger "
            + "`io.genqueue.access`) and the job lines (`io.genqueue.jobs`) are at info: `warn` quiets them.", Setting::logLevel),
    LOG_FORMAT("GENQUEUE_LOG_FORMAT", "text", "Log lines as `text` (for people) or `json` (one object a line, for log "
            + "shippers: `timestamp`, `level`, `logger`, `thread`, `message` and each line's fields as keys of their own).",
            Setting::logFormat),
    ACCESS_LOG("GENQUEUE_ACCESS_LOG", "true", "Write an access line per HTTP request (logger `io.genqueue.access`); `false` "
            + "keeps the other info lines, the job lines among them, without them.", Setting::bool);

    private final String env;
    private final String defaultValue;
    private final String description;
    private final Function<String, ?> parser;

    Setting(String env, String defaultValue, String description, Function<String, ?> parser) {
        this.env = env;
        this.defaultValue = defaultValue;
        this.description = description;
        this.parser = parser;
    }

    String env() {
        return env;
    }

    String defaultValue() {
        return defaultValue;
    }

    String description() {
        return description;
    }

    /** @throws IllegalArgumentException with a message that says what is wrong with {@code raw} */
    Object parse(String raw) {
        return parser.apply(raw.strip());
    }

    // ---------------------------------------------------------------- parsers

    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h|d)");

    static Duration duration(String v) {
        Matcher m = DURATION.matcher(v.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + v + "' is not a duration such as 500ms, 30s, 5m, 2h or 7d");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static String store(String v) {
        if (!v.isEmpty() && !v.startsWith("postgresql://") && !v.startsWith("postgres://") && !v.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("not a PostgreSQL URL (postgresql://user@host:port/db or jdbc:postgresql:...); "
                    + "leave empty for SQLite");
        }
        return v;
    }

    private static String blobs(String v) {
        if (!v.isEmpty() && !v.regionMatches(true, 0, "s3://", 0, 5)) {
            throw new IllegalArgumentException("'" + v + "' is not s3://bucket/prefix; leave empty for files in the data directory");
        }
        return v;
    }

    private static FreeDiskGate.Watermark watermark(String v) {
        return FreeDiskGate.Watermark.parse(v);
    }

    private static Boolean bool(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new IllegalArgumentException("'" + v + "' is not true or false");
        };
    }

    static final List<String> PROVIDER_NAMES = List.of("gemini", "openrouter", "fal", "preview");

    private static List<String> providers(String v) {
        if (v.isEmpty()) {
            return List.of();
        }
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (String part : v.split(",")) {
            String name = part.strip().toLowerCase(Locale.ROOT);
            if (!PROVIDER_NAMES.contains(name)) {
                throw new IllegalArgumentException("'" + part.strip() + "' is not a provider; use " + String.join(", ", PROVIDER_NAMES));
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException("'" + name + "' is listed twice");
            }
        }
        return List.copyOf(names);
    }

    private static URI baseUrl(String v) {
        try {
            URI uri = new URI(v.endsWith("/") ? v.substring(0, v.length() - 1) : v);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getQuery() != null || uri.getFragment() != null) {
                throw new IllegalArgumentException("'" + v + "' is not an http(s) URL without query, such as https://api.example.com");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + v + "' is not a URL");
        }
    }

    private static Duration atLeast(Duration d, Duration min) {
        if (d.compareTo(min) < 0) {
            throw new IllegalArgumentException("must be at least " + min.toMillis() + "ms");
        }
        return d;
    }

    private static int intIn(String v, int min, int max) {
        return (int) longIn(v, min, max);
    }

    private static long longIn(String v, long min, long max) {
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + v + "' is not a whole number");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(n + " is not between " + min + " and " + max);
        }
        return n;
    }

    private static String nonEmpty(String v) {
        if (v.isEmpty()) {
            throw new IllegalArgumentException("must not be empty");
        }
        return v;
    }

    private static String publicUrl(String v) {
        if (v.isEmpty()) {
            return null;
        }
        try {
            URI uri = new URI(v);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                    || uri.getQuery() != null || uri.getFragment() != null) {
                throw new IllegalArgumentException("'" + v + "' is not an http(s) URL without query or fragment");
            }
            return v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + v + "' is not a URL: " + e.getReason());
        }
    }

    private static final Pattern MODEL = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");

    private static Set<String> models(String v) {
        Set<String> models = new LinkedHashSet<>();
        if (v.isBlank()) {
            return Set.of();
        }
        for (String m : v.split(",")) {
            String name = m.strip();
            if (!MODEL.matcher(name).matches()) {
                throw new IllegalArgumentException("'" + name + "' is not a model name (lowercase letters, digits, '_', '.', '-')");
            }
            models.add(name);
        }
        return Set.copyOf(models);
    }

    private static final Pattern HOST_PORT = Pattern.compile("([a-z0-9.-]+|\\[[0-9a-f:.]+]):[0-9]{1,5}");

    private static Set<String> hostPorts(String v) {
        if (v.isEmpty()) {
            return Set.of();
        }
        List<String> entries = Arrays.stream(v.split(",")).map(s -> s.strip().toLowerCase(Locale.ROOT)).toList();
        for (String entry : entries) {
            if (!HOST_PORT.matcher(entry).matches()) {
                throw new IllegalArgumentException("'" + entry + "' is not host:port");
            }
        }
        return Set.copyOf(entries);
    }

    private static String linkSecret(String v) {
        if (!v.isEmpty() && v.length() < 32) {
            throw new IllegalArgumentException("must be at least 32 characters");
        }
        return v.isEmpty() ? null : v;
    }

    private static MetricsAccess metricsAccess(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "off" -> MetricsAccess.OFF;
            case "open" -> MetricsAccess.OPEN;
            case "admin" -> MetricsAccess.ADMIN;
            default -> throw new IllegalArgumentException("'" + v + "' is not one of off, open, admin");
        };
    }

    private static LogFormat logFormat(String v) {
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "text" -> LogFormat.TEXT;
            case "json" -> LogFormat.JSON;
            default -> throw new IllegalArgumentException("'" + v + "' is not one of text, json");
        };
    }

    private static String logLevel(String v) {
        String level = v.toLowerCase(Locale.ROOT);
        if (!Set.of("error", "warn", "info", "debug", "trace").contains(level)) {
            throw new IllegalArgumentException("'" + v + "' is not one of error, warn, info, debug, trace");
        }
        return level;
    }
}
