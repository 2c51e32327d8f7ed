package io.genqueue.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A server measured from outside, in its own JVM, as users run it. */
final class Child implements AutoCloseable {

    private static final Pattern KEY = Pattern.compile("^\\s+(gq_\\S+)$");

    final int port;
    final Process process;
    private final CompletableFuture<String> key = new CompletableFuture<>();

    private Child(int port, Process process) {
        this.port = port;
        this.process = process;
        Thread.ofPlatform().daemon().start(this::drain);
    }

    /** {@code java -jar target/genqueue.jar serve} with settings from {@code env}. */
    static Child genqueue(Path jar, Path dataDir, Map<String, String> env) throws IOException {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(javaBinary(), "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(),
                "serve", "--port", String.valueOf(port), "--host", "127.0.0.1", "--data-dir", dataDir.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().putIfAbsent("GENQUEUE_LOG_LEVEL", "warn");
        Child child = new Child(port, pb.start());
        try {
            child.awaitListening();
        } catch (RuntimeException e) {
            child.process.destroyForcibly(); // not left running after the harness gave up on it
            throw e;
        }
        return child;
    }

    /** The bare baseline server, on genqueue's own class path. */
    static Child bare(String classPath) throws IOException {
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(javaBinary(), "-cp", classPath, BareServer.class.getName(), String.valueOf(port))
                .redirectErrorStream(true);
        Child child = new Child(port, pb.start());
        child.key.complete(null);
        child.awaitListening();
        return child;
    }

    String key() {
        return key.join();
    }

    /** Resident memory now and at its peak, in bytes, from /proc. */
    long[] residentMemory() throws IOException {
        long rss = 0;
        long peak = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = kilobytes(line) * 1024;
            } else if (line.startsWith("VmHWM:")) {
                peak = kilobytes(line) * 1024;
            }
        }
        return new long[] {rss, peak};
    }

    private static long kilobytes(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }

    private void drain() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                Matcher m = KEY.matcher(line);
                if (m.matches()) {
                    key.complete(m.group(1));
                } else if (line.contains("ERROR") || line.contains("WARN") || line.startsWith("genqueue:")) {
                    System.err.println("  [server] " + line);
                }
            }
        } catch (IOException ignored) {
            // the process ended
        }
        key.complete(null);
    }

    private void awaitListening() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180); // a bound for a hang: on two shared cores a start took over a minute
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the server exited with " + process.exitValue());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Harness.pause(50);
            }
        }
        throw new IllegalStateException("the server did not listen on " + port + " within 180 s");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** SIGTERM, then wait for the graceful stop. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
