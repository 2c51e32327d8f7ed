package io.genqueue.app;

import io.genqueue.blob.s3.S3Settings;
import io.genqueue.http.MetricsAccess;
import io.genqueue.limit.FreeDiskGate;
import io.genqueue.provider.Backoff;
import io.genqueue.provider.router.ProviderRouter;
import io.genqueue.webhook.Retries;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import io.genqueue.catalog.Catalog;

/**
 * The service's configuration: read once at start from flags, then the environment
 * ({@code GENQUEUE_*}), then an optional file ({@code --config} or {@code GENQUEUE_CONFIG}, lines of
 * {@code GENQUEUE_NAME=value}), then defaults; every value is checked, and all bad values are
 * reported together, each by name.
 */
record Settings(
        Role role,
        Storage storage,
        int port,
        String host,
        Path dataDir,
        String publicUrl,
        Catalog catalog,
        int workers,
        Duration previewDelay,
        long maxBodyBytes,
        long maxQueued,
        FreeDiskGate.Watermark minFreeDisk,
        int maxAttempts,
        Duration retryBase,
        Duration retryMax,
        Duration lease,
        Duration retention,
        Duration linkTtl,
        String linkSecret,
        Duration webhookKeyLead,
        Duration webhookKeyGrace,
        Retries webhookRetries,
        Duration webhookTimeout,
        Duration shutdownGrace,
        Duration fetchTimeout,
        long fetchMaxBytes,
        int fetchMaxRedirects,
        long fetchMaxPixels,
        Set<String> fetchAllow,
        Duration requestTimeout,
        Duration streamKeepAlive,
        Upstreams upstreams,
        MetricsSettings metrics,
        int readers,
        LogSettings logs,
        String openAiModel,
        Duration openAiTimeout) {

    static final String CONFIG_ENV = "GENQUEUE_CONFIG";

    /** The ids of the served models. */
    Set<String> models() {
        return catalog.ids();
    }

    /** A setting that cannot be used, reported before anything starts. */
    static final class InvalidSettings extends RuntimeException {
        InvalidSettings(List<String> problems) {
            super("invalid settings:\n  " + String.join("\n  ", problems));
        }
    }

    /**
     * @param flags values given on the command line, by setting
     * @param configFile the file named by {@code --config}, or null
     * @param env the environment
     * @throws InvalidSettings listing every bad value
     */
    @SuppressWarnings("unchecked")
    static Settings load(Map<Setting, String> flags, Path configFile, Map<String, String> env) {
        List<String> problems = new ArrayList<>();
        Map<String, String> file = readFile(configFile != null ? configFile
                : env.containsKey(CONFIG_ENV) && !env.get(CONFIG_ENV).isBlank() ? Path.of(env.get(CONFIG_ENV)) : null, problems);
        Map<Setting, Object> values = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String raw;
            String source;
            if (flags.containsKey(s)) {
                raw = flags.get(s);
                source = "flag for " + s.env();
            } else if (env.containsKey(s.env())) {
                raw = env.get(s.env());
                source = s.env();
            } else if (file.containsKey(s.env())) {
                raw = file.get(s.env());
                source = s.env() + " (in the config file)";
            } else {
                raw = s.defaultValue();
                source = s.env();
            }
            try {
                values.put(s, s.parse(raw));
            } catch (IllegalArgumentException e) {
                problems.add(source + ": " + e.getMessage());
            }
        }
        for (String name : file.keySet()) {
            if (!known(name)) {
                problems.add(name + " (in the config file): not a setting");
            }
        }
        if (problems.isEmpty() && ((Duration) values.get(Setting.RETRY_MAX)).compareTo((Duration) values.get(Setting.RETRY_BASE)) < 0) {
            problems.add("GENQUEUE_RETRY_MAX: must not be shorter than GENQUEUE_RETRY_BASE");
        }
        if (!problems.isEmpty()) {
            throw new InvalidSettings(problems);
        }
        if (!((String) values.get(Setting.BLOBS)).isEmpty()) {
            try {
                s3(values);
            } catch (IllegalArgumentException e) {
                problems.add("GENQUEUE_BLOBS: " + e.getMessage());
                throw new InvalidSettings(problems);
            }
        }
        Catalog catalog;
        try {
            catalog = Catalog.load((java.util.Optional<Path>) values.get(Setting.CATALOG), (Set<String>) values.get(Setting.MODELS));
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
            throw new InvalidSettings(problems);
        }
        if (((String) values.get(Setting.OPENAI_MODEL)).isEmpty()) {
            values.put(Setting.OPENAI_MODEL, catalog.ids().iterator().next());
        } else if (!catalog.ids().contains(values.get(Setting.OPENAI_MODEL))) {
            problems.add("GENQUEUE_OPENAI_MODEL: '" + values.get(Setting.OPENAI_MODEL) + "' is not one of the served models ("
                    + String.join(", ", new java.util.TreeSet<>(catalog.ids())) + ")");
            throw new InvalidSettings(problems);
        }
        Settings settings = from(values, catalog);
        problems.addAll(settings.upstreams().problems());
        if (!problems.isEmpty()) {
            throw new InvalidSettings(problems);
        }
        return settings;
    }

    private static boolean known(String name) {
        for (Setting s : Setting.values()) {
            if (s.env().equals(name)) {
                return true;
            }
        }
        return name.equals(CONFIG_ENV);
    }

    private static Map<String, String> readFile(Path file, List<String> problems) {
        if (file == null) {
            return Map.of();
        }
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        } catch (NoSuchFileException e) {
            problems.add("config file " + file + ": does not exist");
            return Map.of();
        } catch (IOException | IllegalArgumentException e) {
            problems.add("config file " + file + ": cannot be read (" + e.getMessage() + ")");
            return Map.of();
        }
        Map<String, String> values = new java.util.TreeMap<>();
        props.stringPropertyNames().forEach(name -> values.put(name.strip(), props.getProperty(name)));
        return values;
    }

    @SuppressWarnings("unchecked")
    private static Settings from(Map<Setting, Object> v, Catalog catalog) {
        return new Settings(
                (Role) v.get(Setting.ROLE),
                storage(v),
                (Integer) v.get(Setting.PORT),
                (String) v.get(Setting.HOST),
                (Path) v.get(Setting.DATA_DIR),
                (String) v.get(Setting.PUBLIC_URL),
                catalog,
                (Integer) v.get(Setting.WORKERS),
                (Duration) v.get(Setting.PREVIEW_DELAY_MS),
                (Long) v.get(Setting.MAX_BODY_BYTES),
                (Long) v.get(Setting.MAX_QUEUED),
                (FreeDiskGate.Watermark) v.get(Setting.MIN_FREE_DISK),
                (Integer) v.get(Setting.MAX_ATTEMPTS),
                (Duration) v.get(Setting.RETRY_BASE),
                (Duration) v.get(Setting.RETRY_MAX),
                (Duration) v.get(Setting.LEASE),
                (Duration) v.get(Setting.RETENTION),
                (Duration) v.get(Setting.LINK_TTL),
                (String) v.get(Setting.LINK_SECRET),
                (Duration) v.get(Setting.WEBHOOK_KEY_LEAD),
                (Duration) v.get(Setting.WEBHOOK_KEY_GRACE),
                new Retries((Duration) v.get(Setting.WEBHOOK_FIRST_RETRY), (Integer) v.get(Setting.WEBHOOK_TRIES)),
                (Duration) v.get(Setting.WEBHOOK_TIMEOUT),
                (Duration) v.get(Setting.SHUTDOWN_GRACE),
                (Duration) v.get(Setting.FETCH_TIMEOUT),
                (Long) v.get(Setting.FETCH_MAX_BYTES),
                (Integer) v.get(Setting.FETCH_MAX_REDIRECTS),
                (Long) v.get(Setting.FETCH_MAX_PIXELS),
                (Set<String>) v.get(Setting.FETCH_ALLOW),
                (Duration) v.get(Setting.REQUEST_TIMEOUT),
                (Duration) v.get(Setting.STREAM_KEEPALIVE),
                upstreams(v),
                new MetricsSettings((MetricsAccess) v.get(Setting.METRICS), (Integer) v.get(Setting.METRICS_PORT),
                        (Boolean) v.get(Setting.METRICS_TENANT_LABEL)),
                (Integer) v.get(Setting.READERS),
                new LogSettings((String) v.get(Setting.LOG_LEVEL), (LogFormat) v.get(Setting.LOG_FORMAT),
                        (Boolean) v.get(Setting.ACCESS_LOG)),
                (String) v.get(Setting.OPENAI_MODEL),
                (Duration) v.get(Setting.OPENAI_TIMEOUT));
    }

    private static Storage storage(Map<Setting, Object> v) {
        return new Storage((String) v.get(Setting.STORE), (Duration) v.get(Setting.STORE_POLL), (Boolean) v.get(Setting.STORE_POLL_ONLY),
                ((String) v.get(Setting.BLOBS)).isEmpty() ? null : s3(v));
    }

    private static S3Settings s3(Map<Setting, Object> v) {
        return S3Settings.parse((String) v.get(Setting.BLOBS), (String) v.get(Setting.S3_ENDPOINT), (String) v.get(Setting.S3_REGION),
                (Boolean) v.get(Setting.S3_PATH_STYLE), (String) v.get(Setting.S3_ACCESS_KEY), (String) v.get(Setting.S3_SECRET_KEY));
    }

    /** Calls per provider: as set, or (0) as many as there are worker slots. */
    private static int concurrency(Map<Setting, Object> v) {
        int set = (Integer) v.get(Setting.PROVIDER_CONCURRENCY);
        return set > 0 ? set : Math.max(1, (Integer) v.get(Setting.WORKERS));
    }

    @SuppressWarnings("unchecked")
    private static Upstreams upstreams(Map<Setting, Object> v) {
        return new Upstreams((List<String>) v.get(Setting.PROVIDERS),
                Map.of("gemini", (String) v.get(Setting.GEMINI_API_KEY), "openrouter", (String) v.get(Setting.OPENROUTER_API_KEY),
                        "fal", (String) v.get(Setting.FAL_KEY)),
                Map.of("gemini", (URI) v.get(Setting.GEMINI_BASE_URL), "openrouter", (URI) v.get(Setting.OPENROUTER_BASE_URL),
                        "fal", (URI) v.get(Setting.FAL_BASE_URL)),
                (Duration) v.get(Setting.PROVIDER_CONNECT_TIMEOUT),
                (Duration) v.get(Setting.PROVIDER_TIMEOUT),
                new ProviderRouter.Limits(concurrency(v), (Integer) v.get(Setting.PROVIDER_RETRIES),
                        new Backoff((Duration) v.get(Setting.RETRY_BASE), (Duration) v.get(Setting.RETRY_MAX)),
                        (Duration) v.get(Setting.PROVIDER_MAX_WAIT), new ProviderRouter.Breaker(Upstreams.BREAKER_WINDOW,
                                Upstreams.BREAKER_MIN_CALLS, Upstreams.BREAKER_FAILURE_RATE, (Duration) v.get(Setting.BREAKER_OPEN))));
    }

    /** The README's settings table. */
    static String markdownTable() {
        StringBuilder sb = new StringBuilder("| setting | default | meaning |\n|---|---|---|\n");
        for (Setting s : Setting.values()) {
            sb.append("| `").append(s.env()).append("` | ")
                    .append(s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`")
                    .append(" | ").append(s.description()).append(" |\n");
        }
        sb.append("| `").append(CONFIG_ENV).append("` | (empty) | A file of `GENQUEUE_NAME=value` lines read for settings ")
                .append("not given as flags or environment (flag `--config`). |\n");
        return sb.toString();
    }
}
