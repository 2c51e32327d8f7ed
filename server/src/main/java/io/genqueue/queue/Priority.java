package io.genqueue.queue;

import java.util.Optional;

/** {@code X-Fal-Queue-Priority}: every {@code normal} job starts before any {@code low} one. */
public enum Priority {
    NORMAL("normal"), LOW("low");

    private final String wire;

    Priority(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    /** The lane number stored with the job; lower lanes run first. */
    public int lane() {
        return ordinal();
    }

    public static Optional<Priority> fromWire(String value) {
        for (Priority p : values()) {
            if (p.wire.equalsIgnoreCase(value.trim())) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
