package io.genqueue.image;

import java.time.Duration;

/** Formats limits for client-facing messages: "7 MiB", "512 KiB", "10 s", "250 ms". */
public final class Units {

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    private Units() {
    }

    public static String bytes(long bytes) {
        if (bytes >= MIB && bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        }
        if (bytes >= MIB) {
            return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) MIB);
        }
        if (bytes >= KIB && bytes % KIB == 0) {
            return bytes / KIB + " KiB";
        }
        return bytes + " bytes";
    }

    public static String duration(Duration duration) {
        long millis = duration.toMillis();
        if (millis >= 1000 && millis % 1000 == 0) {
            return millis / 1000 + " s";
        }
        if (millis >= 1000) {
            return String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
        }
        return millis + " ms";
    }
}
