package io.genqueue.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * Writes the results into the report file between two markers, so that the analysis written by
 * hand around them survives every run.
 */
final class Report {

    static final String START = "<!-- bench:results:start -->";
    static final String END = "<!-- bench:results:end -->";

    private Report() {
    }

    static void write(Path file, String table, boolean isShort, Duration took) throws IOException {
        String results = START + "\n" + header(isShort, took) + "\n" + table + END;
        String text;
        if (Files.exists(file)) {
            String old = Files.readString(file, StandardCharsets.UTF_8);
            int a = old.indexOf(START);
            int b = old.indexOf(END);
            text = a >= 0 && b > a ? old.substring(0, a) + results + old.substring(b + END.length())
                    : old + "\n" + results + "\n";
        } else {
            text = "# Benchmarks\n\n" + results + "\n";
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private static String header(boolean isShort, Duration took) throws IOException {
        return String.format(Locale.ROOT, """
                Command: `bench/run%s` (took %d s)
                Date: %s
                Machine: %s, %d cores, %s RAM; %s %s; %s

                """, isShort ? " --short" : "", took.toSeconds(),
                ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE),
                cpu(), Runtime.getRuntime().availableProcessors(), memory(),
                System.getProperty("java.vm.vendor"), System.getProperty("java.runtime.version"),
                "load generator wrk 4.1.0, 2 threads, 64 connections, on the same cores as the server");
    }

    /** The CPU, cores, memory and JVM of this machine, in one line. */
    static String machine() throws IOException {
        return String.format(Locale.ROOT, "%s, %d cores, %s RAM; %s %s", cpu(), Runtime.getRuntime().availableProcessors(), memory(),
                System.getProperty("java.vm.vendor"), System.getProperty("java.runtime.version"));
    }

    private static String cpu() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
        return lines.stream().filter(l -> l.startsWith("model name")).findFirst()
                .map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("unknown CPU");
    }

    private static String memory() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/meminfo"));
        long kb = lines.stream().filter(l -> l.startsWith("MemTotal:")).findFirst()
                .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).orElse(0L);
        return String.format(Locale.ROOT, "%.0f GiB", kb / 1024.0 / 1024.0);
    }
}
