package io.genqueue.store.sqlite;

import java.util.HashMap;
import java.util.Map;

/**
 * The queued jobs of each model, per lane, as rank counters: {@code queue_position} without
 * counting rows. Only the writer thread changes it (inside units of work, so in the same order as
 * the database); readers ask for positions concurrently, hence the lock.
 *
 * <p>A queued job's position is the number of queued jobs of its model that run before it: every
 * normal job ahead of it by sequence, and for a low job also every queued normal job. Jobs waiting
 * out a retry delay stay counted at their place (they run as soon as they are due).
 */
final class QueueIndex {

    private final Map<String, RankCounter[]> byModel = new HashMap<>();

    synchronized void add(String model, int lane, long seq) {
        lanes(model)[lane].add(seq);
    }

    synchronized void remove(String model, int lane, long seq) {
        lanes(model)[lane].remove(seq);
    }

    synchronized long position(String model, int lane, long seq) {
        RankCounter[] lanes = lanes(model);
        long ahead = lanes[lane].countBelow(seq);
        for (int l = 0; l < lane; l++) {
            ahead += lanes[l].size();
        }
        return ahead;
    }

    synchronized int size() {
        int total = 0;
        for (RankCounter[] lanes : byModel.values()) {
            for (RankCounter lane : lanes) {
                total += lane.size();
            }
        }
        return total;
    }

    synchronized void clear() {
        byModel.clear();
    }

    private RankCounter[] lanes(String model) {
        return byModel.computeIfAbsent(model, m -> new RankCounter[] {new RankCounter(), new RankCounter()});
    }
}
