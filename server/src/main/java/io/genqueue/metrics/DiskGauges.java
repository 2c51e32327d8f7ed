package io.genqueue.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * {@code genqueue_disk_low} (1 while free space under the data directory is below
 * {@code GENQUEUE_MIN_FREE_DISK}, else 0) and {@code genqueue_disk_free_bytes}: read at each scrape
 * from the watermark's last sample, so a scrape never touches the disk.
 */
final class DiskGauges {

    private DiskGauges() {
    }

    static void register(MeterRegistry registry, BooleanSupplier low, LongSupplier freeBytes) {
        Gauge.builder("genqueue.disk.low", () -> low.getAsBoolean() ? 1 : 0)
                .description("1 while free disk space under the data directory is below GENQUEUE_MIN_FREE_DISK: "
                        + "submits get 503 and no job starts")
                .register(registry);
        Gauge.builder("genqueue.disk.free", () -> {
            long free = freeBytes.getAsLong();
            return free < 0 ? Double.NaN : free;
        }).description("Free disk space under the data directory at the last sample").baseUnit("bytes").register(registry);
    }
}
