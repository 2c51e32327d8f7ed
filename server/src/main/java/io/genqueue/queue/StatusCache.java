package io.genqueue.queue;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A store's memory of recent jobs' status, so that polling a live or recently finished job does
 * not read the database. Bounded: at most {@code capacity} entries, the oldest fill leaving first
 * (a job that left is read from the database again, and is then back).
 *
 * <p>Invariant: an entry never holds a state older than the database's committed one at any moment
 * after that newer commit could have been observed. The store keeps it with two calls around each
 * change of a job: {@link #changing} before the change commits (inside its transaction) and
 * {@link #changed} once it committed or failed. {@code changing} drops the entry and blocks fills of
 * that job until {@code changed}; a fill offers the {@link #stamp} taken before its database read
 * and is refused when any change of the job began since. So:
 * <ul>
 *   <li>a read that finds an entry answers a state that was committed and that no commit has
 *       replaced yet, or one whose replacement is still in flight (not yet visible to anyone);
 *   <li>after a commit anyone can see (its caller's answer, a webhook, a stream's event), the old
 *       entry is gone (dropped before the commit), and a fill from a read that ran before the
 *       commit is refused (its stamp predates the {@code changing}).
 * </ul>
 * Stamps are per stripe of job ids (a hash), so a change of one job refuses only the fills of the
 * few jobs in its stripe at that moment. Each entry holds the tenant's job; callers check the tenant
 * before answering.
 *
 * @param <V> what the store keeps per job (its view, and what it needs to compute a live queue position)
 */
public final class StatusCache<V> {

    /** Entries of the stores' caches (a few hundred bytes each). */
    public static final int DEFAULT_CAPACITY = 100_000;

    private static final int STRIPES = 4096;

    private final int capacity;
    private final Map<String, V> entries = new ConcurrentHashMap<>();
    private final Queue<String> fillOrder = new ConcurrentLinkedQueue<>();
    private final AtomicInteger fills = new AtomicInteger();
    private final AtomicLongArray versions = new AtomicLongArray(STRIPES);
    private final AtomicIntegerArray inFlight = new AtomicIntegerArray(STRIPES);

    /** @param capacity most entries held; 0 holds none (every read goes to the database) */
    public StatusCache(int capacity) {
        this.capacity = capacity;
    }

    /** The job's entry, or null. */
    public V get(String id) {
        return entries.get(id);
    }

    /**
     * Taken before the database read whose result is offered to {@link #fill}; -1 while a change of
     * a job of this stripe is in flight (the read may then not be kept).
     */
    public long stamp(String id) {
        int s = stripe(id);
        long version = versions.get(s);
        return inFlight.get(s) == 0 ? version : -1;
    }

    /** Keeps {@code value} for the job unless a change of its stripe began since {@code stamp}. */
    public void fill(String id, long stamp, V value) {
        if (stamp < 0 || capacity == 0) {
            return;
        }
        int s = stripe(id);
        boolean[] added = {false};
        // Under the map's lock for this id: a changing() of this job either removes the entry after this
        // runs or has bumped the version before it, so it never survives a change that began after its stamp.
        entries.compute(id, (key, old) -> {
            if (versions.get(s) != stamp) {
                return old;
            }
            added[0] = old == null;
            return value;
        });
        if (added[0]) {
            fillOrder.add(id);
            if (fills.incrementAndGet() > capacity) {
                evictOldest();
            }
        }
    }

    /** A change of the job is about to commit: drop its entry and refuse fills until {@link #changed}. */
    public void changing(String id) {
        int s = stripe(id);
        inFlight.incrementAndGet(s);
        versions.incrementAndGet(s);
        entries.remove(id);
    }

    /** The change announced by {@link #changing} committed or failed. */
    public void changed(String id) {
        int s = stripe(id);
        versions.incrementAndGet(s);
        inFlight.decrementAndGet(s);
        entries.remove(id);
    }

    /**
     * Forgets every entry: for a store whose memory may no longer follow its database (a failed
     * commit). Changes still in flight stay counted.
     */
    public void clear() {
        for (int s = 0; s < STRIPES; s++) {
            versions.incrementAndGet(s);
        }
        entries.clear();
    }

    /** Entries held (for tests and metrics). */
    public int size() {
        return entries.size();
    }

    private void evictOldest() {
        String oldest = fillOrder.poll();
        if (oldest != null) {
            fills.decrementAndGet();
            entries.remove(oldest);
        }
    }

    private static int stripe(String id) {
        int h = id.hashCode();
        return (h ^ (h >>> 16)) & (STRIPES - 1);
    }
}
