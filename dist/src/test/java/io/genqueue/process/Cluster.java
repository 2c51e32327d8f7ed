package io.genqueue.process;

import io.genqueue.blob.s3.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The processes of one test of a distributed deployment: one store (PostgreSQL), one bucket of an
 * S3Proxy and one data directory (for their output), started with the same settings; closing kills
 * those still running and keeps each one's output beside the data directory.
 */
final class Cluster implements AutoCloseable {

    private static final String TERMINAL = "('SUCCEEDED', 'FAILED', 'CANCELLED')";
    private static final Pattern WORKER_STARTED = Pattern.compile("genqueue running without HTTP \\(role worker");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    final Path dataDir = ServerProcess.newDataDir("cluster");
    final Map<String, String> env = new HashMap<>();
    final Db db;
    final List<ServerProcess> processes = new ArrayList<>();
    String key;

    Cluster(S3ProxyServer s3, String storeUrl, String bucket, Map<String, String> settings) {
        s3.createBucket(bucket);
        env.put("GENQUEUE_STORE", storeUrl);
        env.put("GENQUEUE_BLOBS", "s3://" + bucket + "/images");
        env.put("GENQUEUE_S3_ENDPOINT", s3.endpoint().toString());
        env.put("GENQUEUE_S3_REGION", "us-east-1");
        env.put("GENQUEUE_S3_PATH_STYLE", "true");
        env.put("GENQUEUE_S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY);
        env.put("GENQUEUE_S3_SECRET_KEY", S3ProxyServer.SECRET_KEY);
        env.putAll(settings);
        db = new Db(storeUrl);
    }

    /** Starts one process and waits until it serves (or, a worker, until it runs); the first one makes the key. */
    ServerProcess start(String role) {
        ServerProcess p = launch(role);
        awaitStarted(p, role);
        if (key == null) {
            key = p.printedKey().orElseThrow(() -> new AssertionError("the first process printed no key\n" + p.describe()));
        }
        return p;
    }

    /** Starts processes at once (after the first: they must not race to make a key), then waits for each. */
    List<ServerProcess> startAll(String... roles) {
        List<ServerProcess> started = new ArrayList<>();
        for (String role : roles) {
            started.add(launch(role));
        }
        for (int i = 0; i < roles.length; i++) {
            awaitStarted(started.get(i), roles[i]);
        }
        return started;
    }

    private ServerProcess launch(String role) {
        ServerProcess p = ServerProcess.serve(dataDir, env, "--role", role);
        processes.add(p);
        return p;
    }

    private static void awaitStarted(ServerProcess p, String role) {
        if (role.equals("worker")) {
            try {
                p.out.await(WORKER_STARTED, START_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        } else {
            p.awaitHealthy(START_TIMEOUT);
        }
    }

    /** Kills what still runs and keeps each process's output beside the data directory, for inspection. */
    @Override
    public void close() {
        for (ServerProcess p : processes) {
            p.close();
            try {
                java.nio.file.Files.writeString(dataDir.resolve("process-" + p.process.pid() + ".log"), p.describe());
            } catch (IOException e) {
                System.out.println("[Cluster] cannot keep the output of pid " + p.process.pid() + ": " + e);
            }
        }
    }

    /** Direct reads of the store's tables, each on a fresh connection (the server may have restarted since the last). */
    static final class Db {
        private final String jdbcUrl;

        Db(String storeUrl) {
            String rest = storeUrl.substring(storeUrl.indexOf('@') + 1);
            this.jdbcUrl = "jdbc:postgresql://" + rest + (rest.contains("?") ? "&" : "?") + "user=postgres&connectTimeout=5";
        }

        long count(String sql) {
            return query(sql, rs -> {
                rs.next();
                return rs.getLong(1);
            });
        }

        /** The first column mapped to the second, as text. */
        Map<String, String> strings(String sql) {
            return query(sql, rs -> {
                Map<String, String> out = new LinkedHashMap<>();
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(2));
                }
                return out;
            });
        }

        /** The first column mapped to the second, a number. */
        Map<String, Long> longs(String sql) {
            return query(sql, rs -> {
                Map<String, Long> out = new LinkedHashMap<>();
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getLong(2));
                }
                return out;
            });
        }

        /** How many of {@code ids} are in a final state. */
        long terminal(Set<String> ids) {
            return query("SELECT count(*) FROM jobs WHERE id = ANY(?) AND state IN " + TERMINAL, rs -> {
                rs.next();
                return rs.getLong(1);
            }, (Object) ids.toArray(String[]::new));
        }

        interface Reader<T> {
            T read(ResultSet rs) throws SQLException;
        }

        <T> T query(String sql, Reader<T> reader, Object... params) {
            try (Connection c = DriverManager.getConnection(jdbcUrl); PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < params.length; i++) {
                    if (params[i] instanceof String[] a) {
                        ps.setArray(i + 1, c.createArrayOf("text", a));
                    } else {
                        ps.setObject(i + 1, params[i]);
                    }
                }
                try (ResultSet rs = ps.executeQuery()) {
                    return reader.read(rs);
                }
            } catch (SQLException e) {
                throw new AssertionError("reading the store's tables (" + sql + ") failed: " + e.getMessage(), e);
            }
        }
    }
}
