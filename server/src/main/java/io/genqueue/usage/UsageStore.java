package io.genqueue.usage;

import java.util.List;
import java.util.Optional;

/**
 * Where usage is counted: beside the jobs, by the store itself, in the same transaction as the
 * job change it counts (a submit, the move into a final state), so a crash never separates the
 * two. Implementations: SQLite and PostgreSQL; both pass {@code UsageContract}.
 */
public interface UsageStore {

    /**
     * The counters of {@code tenant} (every tenant when empty) for the days of {@code range},
     * one per (tenant, day, model, counted, error type, provider), in no particular order.
     */
    List<UsageCount> counts(Optional<String> tenant, UsageRange range);
}
