package io.genqueue.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server of a test's own, which the test may stop, crash and start again without
 * disturbing the machine's shared one: a fresh cluster ({@code initdb}) in a temporary directory
 * on a free loopback port, run with the installed binaries ({@code /usr/lib/postgresql/15/bin}, or
 * the {@code pg.bin} system property). PostgreSQL refuses to run as root, so when the tests run as
 * root the cluster belongs to the {@code postgres} OS user and every command runs through
 * {@code runuser}. Trust authentication, user {@code postgres}, database {@code postgres}.
 *
 * <p>{@link #close} always stops the server (immediately) and deletes the directory. When the
 * binaries are missing or the cluster does not start, {@link #start} fails: never a skip.
 */
final class PrivatePostgres implements AutoCloseable {

    private static final Path BIN = Path.of(System.getProperty("pg.bin", "/usr/lib/postgresql/15/bin"));
    private static final String OS_USER = "postgres";
    private static final long COMMAND_TIMEOUT_S = 60;

    private final Path dir;
    private final Path data;
    private final Path serverLog;
    private final int port;
    private boolean running;

    private PrivatePostgres(Path dir, int port) {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.serverLog = dir.resolve("server.log");
        this.port = port;
    }

    /** Creates a cluster and starts it; fails (never skips) when that is not possible here. */
    static PrivatePostgres start() {
        for (String tool : List.of("initdb", "pg_ctl")) {
            if (!Files.isExecutable(BIN.resolve(tool))) {
                throw new AssertionError("PostgreSQL's " + tool + " is not at " + BIN + " (set -Dpg.bin): this test needs it");
            }
        }
        Path dir;
        try {
            dir = Files.createTempDirectory("genqueue-pg-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if (asRoot()) {
                UserPrincipalLookupService users = dir.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(dir, users.lookupPrincipalByName(OS_USER));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a directory for a private PostgreSQL", e);
        }
        PrivatePostgres pg = new PrivatePostgres(dir, ServerProcess.freePort());
        try {
            pg.run("initdb", "-D", pg.data.toString(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions");
            pg.startServer();
            return pg;
        } catch (RuntimeException | AssertionError e) {
            pg.close();
            throw e;
        }
    }

    /** The store URL of its {@code postgres} database (the {@code public} schema). */
    String url() {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    /** A JDBC connection as {@code postgres}, for looking behind the processes under test. */
    Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres&connectTimeout=5");
    }

    int port() {
        return port;
    }

    /** Starts the (stopped) server and returns once it accepts connections. */
    void startServer() {
        run("pg_ctl", "-D", data.toString(), "-l", serverLog.toString(), "-w", "-t", String.valueOf(COMMAND_TIMEOUT_S),
                "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "start");
        running = true;
    }

    /**
     * Stops the server the way a crash does ({@code pg_ctl stop -m immediate}): every session is
     * cut at once, nothing is checkpointed, and the next start runs crash recovery.
     */
    void crash() {
        run("pg_ctl", "-D", data.toString(), "-m", "immediate", "-w", "stop");
        running = false;
    }

    /** Stops the server if it runs (immediately; should pg_ctl fail, SIGKILL to its postmaster) and deletes the cluster. */
    @Override
    public void close() {
        try {
            if (running || Files.exists(data.resolve("postmaster.pid"))) {
                try {
                    crash();
                } catch (RuntimeException | AssertionError e) {
                    killPostmaster();
                }
            }
        } finally {
            ServerProcess.deleteTree(dir);
        }
    }

    /** SIGKILL to the postmaster this cluster started (its PID is the first line of postmaster.pid). */
    private void killPostmaster() {
        try {
            List<String> lines = Files.readAllLines(data.resolve("postmaster.pid"));
            if (!lines.isEmpty()) {
                ProcessHandle.of(Long.parseLong(lines.get(0).strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (IOException | NumberFormatException e) {
            // nothing left to stop
        }
    }

    private static boolean asRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Runs one of the binaries as the cluster's owner, to its end; fails with its output when it fails. */
    private void run(String tool, String... args) {
        List<String> cmd = new ArrayList<>();
        if (asRoot()) {
            cmd.addAll(List.of("runuser", "-u", OS_USER, "--"));
        }
        cmd.add(BIN.resolve(tool).toString());
        cmd.addAll(List.of(args));
        Path output = dir.resolve(tool + ".out");
        try {
            // Output to a file, not a pipe: pg_ctl's server would otherwise hold the pipe open after pg_ctl exits.
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile())).start();
            p.getOutputStream().close();
            if (!p.waitFor(COMMAND_TIMEOUT_S + 10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not end within " + COMMAND_TIMEOUT_S + " s" + logs(output));
            }
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed with exit " + p.exitValue() + logs(output));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String logs(Path output) {
        StringBuilder text = new StringBuilder();
        for (Path p : List.of(output, serverLog)) {
            try {
                if (Files.exists(p)) {
                    text.append("\n--- ").append(p.getFileName()).append(":\n").append(Files.readString(p));
                }
            } catch (IOException e) {
                text.append("\n(cannot read ").append(p).append(")");
            }
        }
        return text.toString();
    }
}
