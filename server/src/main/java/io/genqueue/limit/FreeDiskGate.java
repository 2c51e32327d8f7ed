package io.genqueue.limit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GENQUEUE_MIN_FREE_DISK}: the free-space watermark of the disk under the data directory.
 * Below it the process is {@link #low}: submits are turned away with 503, {@code /readyz} answers
 * 503, and workers claim nothing, so the disk never fills with work the process could not finish;
 * above it again everything resumes by itself.
 *
 * <p>Free space is sampled on a timer ({@code genqueue-disk-watch}, one platform thread), never on a
 * request: a submit reads one volatile. A change of side is logged once (not once a request), and
 * what listens to it ({@link #onChange}) hears it on the sampling thread.
 */
public final class FreeDiskGate implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FreeDiskGate.class);
    /** How often free space is sampled. */
    public static final Duration SAMPLE_EVERY = Duration.ofSeconds(1);

    /**
     * The least free space wanted: {@code bytes}, or {@code percent} of the disk's size (one of
     * them is 0). {@code 0} turns the watermark off.
     */
    public record Watermark(long bytes, double percent) {

        private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(%|B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?");

        public static final Watermark OFF = new Watermark(0, 0);

        public Watermark {
            if (bytes < 0 || percent < 0 || percent >= 100 || (bytes > 0 && percent > 0)) {
                throw new IllegalArgumentException("a watermark is a size or a percentage below 100%");
            }
        }

        /**
         * {@code 512MB}, {@code 2GB}, {@code 1048576} (bytes), or {@code 5%} of the disk; units are
         * powers of 1024 ({@code MB} = {@code MiB}), case-insensitive.
         */
        public static Watermark parse(String text) {
            Matcher m = SIZE.matcher(text.strip().toUpperCase(Locale.ROOT));
            if (!m.matches()) {
                throw new IllegalArgumentException("expected a size such as 512MB or a percentage such as 5%, got '" + text + "'");
            }
            double number = Double.parseDouble(m.group(1));
            String unit = m.group(2) == null ? "B" : m.group(2);
            if (unit.equals("%")) {
                if (number >= 100) {
                    throw new IllegalArgumentException("a percentage below 100% is needed, got '" + text + "'");
                }
                return new Watermark(0, number);
            }
            int shift = switch (unit.charAt(0)) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> 0;
            };
            double bytes = number * (1L << shift);
            if (bytes >= Long.MAX_VALUE / 2) {
                throw new IllegalArgumentException("too large: '" + text + "'");
            }
            return new Watermark((long) Math.ceil(bytes), 0);
        }

        public boolean off() {
            return bytes == 0 && percent == 0;
        }

        /** The free bytes wanted on a disk of {@code totalBytes}. */
        public long bytesOn(long totalBytes) {
            return percent > 0 ? (long) Math.ceil(totalBytes * percent / 100) : bytes;
        }

        @Override
        public String toString() {
            if (percent > 0) {
                return (percent == Math.rint(percent) ? String.valueOf((long) percent) : String.valueOf(percent)) + "%";
            }
            return megabytes(bytes);
        }
    }

    private final FileStore disk;
    private final Path dir;
    private final Watermark min;
    private final ScheduledExecutorService timer; // null when off
    private volatile boolean low;
    private volatile long free = -1;
    private volatile Runnable onChange = () -> { };

    private FreeDiskGate(FileStore disk, Path dir, Watermark min, boolean sampled) {
        this.disk = disk;
        this.dir = dir;
        this.min = min;
        this.timer = sampled ? Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("genqueue-disk-watch")
                .daemon().factory()) : null;
    }

    /**
     * Samples the disk holding {@code dir} now (so the first submit already sees its state) and then
     * every {@link #SAMPLE_EVERY}.
     */
    public static FreeDiskGate watch(Path dir, Watermark min) {
        if (min.off()) {
            return off();
        }
        FileStore disk;
        try {
            disk = Files.getFileStore(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find the disk of " + dir, e);
        }
        FreeDiskGate gate = new FreeDiskGate(disk, dir, min, true);
        gate.sample();
        gate.timer.scheduleWithFixedDelay(gate::sampleQuietly, SAMPLE_EVERY.toMillis(), SAMPLE_EVERY.toMillis(),
                TimeUnit.MILLISECONDS);
        return gate;
    }

    /** A gate that is never low (no watermark, or nothing that grows on the local disk). */
    public static FreeDiskGate off() {
        return new FreeDiskGate(null, null, Watermark.OFF, false);
    }

    /** Whether free space is below the watermark now (as of the last sample). */
    public boolean low() {
        return low;
    }

    /** Free bytes at the last sample (usable by this process); -1 when nothing is sampled. */
    public long freeBytes() {
        return free;
    }

    /** Whether anything is sampled (false when off). */
    public boolean watching() {
        return timer != null;
    }

    /** Hears every change of side, on the sampling thread; it must return at once. */
    public void onChange(Runnable listener) {
        this.onChange = listener;
    }

    /** What {@code /readyz} and the logs say while low. */
    public String reason() {
        return "free disk space under the data directory is " + megabytes(Math.max(0, free))
                + ", below GENQUEUE_MIN_FREE_DISK (" + min + ")";
    }

    /** Reads the disk's free space and changes side if it crossed the watermark. */
    void sample() {
        long usable;
        long total;
        try {
            usable = disk.getUsableSpace();
            total = disk.getTotalSpace();
        } catch (IOException e) {
            log.warn("cannot read the free space of the disk under {}: {}", dir, e.toString());
            return;
        }
        free = usable;
        boolean below = usable < min.bytesOn(total);
        if (below == low) {
            return;
        }
        low = below;
        if (below) {
            log.warn("{}: submits are refused (503), /readyz answers 503 and no job is started until space is freed", reason());
        } else {
            log.info("free disk space under the data directory is {} again, at or above GENQUEUE_MIN_FREE_DISK ({}): "
                    + "submits and jobs resume", megabytes(usable), min);
        }
        onChange.run();
    }

    private void sampleQuietly() {
        try {
            sample();
        } catch (RuntimeException e) {
            log.error("sampling free disk space failed", e);
        }
    }

    private static String megabytes(long bytes) {
        return bytes % (1L << 20) == 0 ? (bytes >> 20) + "MB"
                : String.format(Locale.ROOT, "%.1fMB", bytes / (double) (1L << 20));
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
