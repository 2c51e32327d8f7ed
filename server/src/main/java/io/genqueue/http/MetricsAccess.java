package io.genqueue.http;

/** Who may read {@code GET /metrics} ({@code GENQUEUE_METRICS}). */
public enum MetricsAccess {
    /** Not served: 404. */
    OFF,
    /** Anyone who can reach the port (the default: put it behind the network's own fence). */
    OPEN,
    /** Only callers with an admin key: 401 without a valid key, 403 with another key. */
    ADMIN
}
