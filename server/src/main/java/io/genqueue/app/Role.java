package io.genqueue.app;

import java.util.Locale;

/**
 * What one process does ({@code GENQUEUE_ROLE}, flag {@code --role}). Every role runs the
 * maintenance (lease renewal, reaping, retention), so any process keeps the queue healthy.
 */
enum Role {
    /** Serves HTTP; runs no jobs. */
    API,
    /** Runs jobs; no HTTP listener. */
    WORKER,
    /** Both: one process is a whole deployment. */
    ALL;

    boolean servesHttp() {
        return this != WORKER;
    }

    boolean runsJobs() {
        return this != API;
    }

    /** {@code api}, {@code worker} or {@code all}, in any case. */
    static Role parse(String value) {
        for (Role role : values()) {
            if (role.name().equalsIgnoreCase(value)) {
                return role;
            }
        }
        throw new IllegalArgumentException("'" + value + "' is not a role; use api, worker or all");
    }

    /** The name as written in settings and logs. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
