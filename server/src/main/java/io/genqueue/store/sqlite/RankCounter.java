package io.genqueue.store.sqlite;

/**
 * A set of sequence numbers that answers "how many members are below s" in O(log n): a Fenwick
 * tree over the window {@code [base, base + capacity)}, with a bit set of the members so the window
 * can be moved and resized.
 *
 * <p>Sequence numbers are the jobs' rowids: they grow, and members mostly leave from the low end,
 * so the window slides forward; a rebuild (linear in the window) happens only when a number falls
 * outside it, which amortises to O(1) per insert. Not thread-safe: the owner locks.
 */
final class RankCounter {

    private static final int MIN_CAPACITY = 1024;

    private long base;
    private int capacity;
    private int[] tree;      // 1-based Fenwick tree over offsets 0..capacity-1
    private long[] members;  // bit i set = base + i is a member
    private int size;

    RankCounter() {
        reset(0, MIN_CAPACITY);
    }

    int size() {
        return size;
    }

    boolean contains(long seq) {
        long offset = seq - base;
        return offset >= 0 && offset < capacity && (members[(int) (offset >>> 6)] & (1L << offset)) != 0;
    }

    /** Adds {@code seq}; adding a member again changes nothing. */
    void add(long seq) {
        if (seq - base < 0 || seq - base >= capacity) {
            rebuildToCover(seq);
        }
        int offset = (int) (seq - base);
        long bit = 1L << offset;
        if ((members[offset >>> 6] & bit) != 0) {
            return;
        }
        members[offset >>> 6] |= bit;
        size++;
        for (int i = offset + 1; i <= capacity; i += i & -i) {
            tree[i]++;
        }
    }

    /** Removes {@code seq}; removing a non-member changes nothing. */
    void remove(long seq) {
        if (!contains(seq)) {
            return;
        }
        int offset = (int) (seq - base);
        members[offset >>> 6] &= ~(1L << offset);
        size--;
        for (int i = offset + 1; i <= capacity; i += i & -i) {
            tree[i]--;
        }
    }

    /** How many members are smaller than {@code seq}. */
    int countBelow(long seq) {
        long offset = seq - base;
        if (offset <= 0) {
            return 0;
        }
        if (offset >= capacity) {
            return size;
        }
        int count = 0;
        for (int i = (int) offset; i > 0; i -= i & -i) {
            count += tree[i];
        }
        return count;
    }

    void clear() {
        reset(0, MIN_CAPACITY);
    }

    /** Moves and resizes the window so that it holds every member and {@code seq}. */
    private void rebuildToCover(long seq) {
        long low = seq;
        long high = seq;
        long[] old = members;
        long oldBase = base;
        for (int word = 0; word < old.length; word++) {
            long bits = old[word];
            if (bits != 0) {
                low = Math.min(low, oldBase + ((long) word << 6) + Long.numberOfTrailingZeros(bits));
                high = Math.max(high, oldBase + ((long) word << 6) + 63 - Long.numberOfLeadingZeros(bits));
            }
        }
        long span = high - low + 1;
        // Room to grow: twice the span, so the next rebuild is at least span inserts away.
        long wanted = Math.max(MIN_CAPACITY, Long.highestOneBit(span * 2 - 1) << 1);
        if (wanted > (1 << 30)) {
            throw new IllegalStateException("queued sequence numbers span too wide a range: " + span);
        }
        reset(low, (int) wanted);
        for (int word = 0; word < old.length; word++) {
            long bits = old[word];
            while (bits != 0) {
                int bit = Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                int offset = (int) (oldBase + ((long) word << 6) + bit - base);
                members[offset >>> 6] |= 1L << offset;
                tree[offset + 1]++;
                size++;
            }
        }
        // Linear-time Fenwick construction: push each node's count to its parent.
        for (int i = 1; i <= capacity; i++) {
            int parent = i + (i & -i);
            if (parent <= capacity) {
                tree[parent] += tree[i];
            }
        }
    }

    private void reset(long newBase, int newCapacity) {
        base = newBase;
        capacity = newCapacity;
        tree = new int[newCapacity + 1];
        members = new long[(newCapacity + 63) >>> 6];
        size = 0;
    }
}
