package io.genqueue.process;

import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A genqueue child process, started from {@code target/genqueue.jar} with the JVM that runs the
 * tests: {@code serve} with its settings in the environment, or a one-shot command such as
 * {@code keys create}. Its stdout and stderr are captured into buffers that a test can wait on.
 * {@link #terminate} sends SIGTERM, {@link #kill} SIGKILL; {@link #close} kills whatever still runs.
 */
final class ServerProcess implements AutoCloseable {

    private static final Pattern PRINTED_KEY = Pattern.compile("^\\s+(gq_\\S+)$", Pattern.MULTILINE);

    final Path dataDir;
    final int port;
    final String base;
    final Process process;
    final Output out;
    final Output err;

    private ServerProcess(Path dataDir, int port, Process process) {
        this.dataDir = dataDir;
        this.port = port;
        this.base = "http://127.0.0.1:" + port;
        this.process = process;
        this.out = Output.capture(process.getInputStream(), "stdout of " + process.pid());
        this.err = Output.capture(process.getErrorStream(), "stderr of " + process.pid());
    }

    // ---------------------------------------------------------------- starting

    /** The jar failsafe built ({@code genqueue.jar} system property). */
    static Path jar() {
        String jar = System.getProperty("genqueue.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("system property genqueue.jar does not name the built jar (run with mvn verify): " + jar);
        }
        return Path.of(jar);
    }

    /** A fresh directory under {@code target/it-data}, kept after the run for inspection. */
    static Path newDataDir(String prefix) {
        try {
            Path root = Files.createDirectories(jar().toAbsolutePath().getParent().resolve("it-data"));
            return Files.createTempDirectory(root, prefix + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code java --enable-native-access=ALL-UNNAMED -jar genqueue.jar args...}, with this JVM's binary.
     *
     * <p>The jar run is a byte-for-byte copy of {@code target/genqueue.jar} in {@code target/it-launch},
     * beside a link to {@code target/lib}: on a shared machine, a {@code pkill -f "genqueue.jar serve"}
     * meant for someone else's server must not kill the servers of a test (it did).
     */
    static List<String> command(String... args) {
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java binary runs the tests"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-jar",
                launchJar().toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Path launchJar;

    /** Deletes a data directory a test no longer needs (one that passed: a failed one is kept for inspection). */
    static void deleteTree(Path dir) {
        try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static synchronized Path launchJar() {
        if (launchJar == null) {
            Path target = jar().toAbsolutePath().getParent();
            Path dir = target.resolve("it-launch");
            try {
                Files.createDirectories(dir);
                Path copy = dir.resolve("server-under-test.jar");
                Files.copy(jar(), copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Path lib = dir.resolve("lib");
                if (!Files.exists(lib, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(lib, Path.of("..", "lib"));
                }
                launchJar = copy;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare " + dir, e);
            }
        }
        return launchJar;
    }

    private static ProcessBuilder builder(Map<String, String> env, String... args) {
        ProcessBuilder pb = new ProcessBuilder(command(args));
        // The child sees only the settings the test gives it, never ones leaking from the shell.
        pb.environment().keySet().removeIf(name -> name.startsWith("GENQUEUE_"));
        pb.environment().putAll(env);
        pb.directory(jar().toAbsolutePath().getParent().getParent().toFile());
        return pb;
    }

    /**
     * Starts {@code serve} on {@code dataDir} and a free port on 127.0.0.1, with {@code env} over
     * that; does not wait for it (see {@link #awaitHealthy}).
     */
    static ServerProcess serve(Path dataDir, Map<String, String> env, String... args) {
        int port = env.containsKey("GENQUEUE_PORT") ? Integer.parseInt(env.get("GENQUEUE_PORT")) : freePort();
        Map<String, String> all = new java.util.HashMap<>(Map.of(
                "GENQUEUE_HOST", "127.0.0.1",
                "GENQUEUE_PORT", Integer.toString(port),
                "GENQUEUE_DATA_DIR", dataDir.toString()));
        all.putAll(env);
        List<String> serveArgs = new ArrayList<>(List.of("serve"));
        serveArgs.addAll(List.of(args));
        try {
            return new ServerProcess(dataDir, port, builder(all, serveArgs.toArray(String[]::new)).start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the server", e);
        }
    }

    /** Starts {@code serve} and waits until {@code /healthz} answers 200. */
    static ServerProcess serveHealthy(Path dataDir, Map<String, String> env) {
        return serveHealthy(dataDir, env, Duration.ofSeconds(60));
    }

    /** {@link #serveHealthy(Path, Map)}, waiting at most {@code timeout} for the answer. */
    static ServerProcess serveHealthy(Path dataDir, Map<String, String> env, Duration timeout) {
        ServerProcess server = serve(dataDir, env);
        try {
            return server.awaitHealthy(timeout);
        } catch (RuntimeException | AssertionError e) {
            server.close();
            throw e;
        }
    }

    /** A port that was free a moment ago. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls {@code /healthz} until it answers 200; fails at once if the process ends. */
    ServerProcess awaitHealthy(Duration timeout) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest health = HttpRequest.newBuilder(URI.create(base + "/healthz")).timeout(Duration.ofSeconds(2)).build();
        try {
            Eventually.until(timeout, "the server healthy", () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("the server exited with " + process.exitValue() + " before it was healthy");
                }
                try {
                    return client.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (IOException e) {
                    return false; // not listening yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + describe(), e);
        }
        return this;
    }

    /** The key the first start printed, indented on its own line. */
    Optional<String> printedKey() {
        Matcher m = PRINTED_KEY.matcher(out.text());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    Api api(String key) {
        return new Api(base, key);
    }

    // ---------------------------------------------------------------- stopping

    /**
     * SIGTERM, then waits for the exit; returns the exit code (0 or 143 for a graceful stop).
     *
     * <p>The signal goes through the {@link ProcessHandle}: {@link Process#destroy} sends the same
     * SIGTERM but also closes this side of the output pipes at once, which would lose everything the
     * server prints while it stops.
     */
    int terminate(Duration timeout) {
        process.toHandle().destroy();
        return awaitExit(timeout);
    }

    /** SIGKILL (through the {@link ProcessHandle}, see {@link #terminate}), then waits for the exit. */
    void kill() {
        process.toHandle().destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    /** Waits for the process to end; on timeout kills it and fails. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("the process did not exit within " + timeout + "\n" + describe());
            }
            out.awaitClosed(Duration.ofSeconds(5));
            err.awaitClosed(Duration.ofSeconds(5));
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    String describe() {
        return "--- stdout of pid " + process.pid() + ":\n" + out.text() + "--- stderr:\n" + err.text() + "---";
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- one-shot commands

    /** What a one-shot command printed, and its exit code. */
    record Result(int code, String out, String err) {
        String lastLine() {
            List<String> lines = out.lines().toList();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout:\n" + out + "--- stderr:\n" + err + "---";
        }
    }

    /** Runs {@code java -jar genqueue.jar args...} to its end (at most 60 s). */
    static Result run(Map<String, String> env, String... args) {
        try {
            Process p = builder(env, args).start();
            p.getOutputStream().close();
            Output out = Output.capture(p.getInputStream(), "stdout");
            Output err = Output.capture(p.getErrorStream(), "stderr");
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("genqueue " + String.join(" ", args) + " did not end within 60 s");
            }
            out.awaitClosed(Duration.ofSeconds(5));
            err.awaitClosed(Duration.ofSeconds(5));
            return new Result(p.exitValue(), out.text(), err.text());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- output capture

    /** A stream read to its end on a daemon thread into a buffer that callers can wait on. */
    static final class Output {
        private final StringBuilder text = new StringBuilder();
        private boolean closed;

        static Output capture(InputStream in, String name) {
            Output output = new Output();
            Thread.ofPlatform().daemon().name("capture " + name).start(() -> output.pump(in));
            return output;
        }

        private void pump(InputStream in) {
            byte[] buffer = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    String chunk = new String(buffer, 0, n, StandardCharsets.UTF_8);
                    synchronized (this) {
                        text.append(chunk);
                        notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            } finally {
                synchronized (this) {
                    closed = true;
                    notifyAll();
                }
            }
        }

        synchronized String text() {
            return text.toString();
        }

        /** Waits until the text matches {@code pattern} (found anywhere); returns the match, or fails on timeout or end of stream. */
        synchronized Matcher await(Pattern pattern, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Matcher m = pattern.matcher(text);
                if (m.find()) {
                    return m;
                }
                long left = deadline - System.nanoTime();
                if (closed || left <= 0) {
                    throw new AssertionError("output never showed /" + pattern + "/ (" + (closed ? "stream ended" : "timed out")
                            + "):\n" + text);
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        synchronized void awaitClosed(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }
}
