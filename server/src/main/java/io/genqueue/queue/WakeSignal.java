package io.genqueue.queue;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A wake-up that is never lost: a {@link #wake} before the {@link #await} makes the await return at
 * once. Many wakes before one await count as one.
 */
public final class WakeSignal {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition woken = lock.newCondition();
    private boolean pending;

    public void wake() {
        lock.lock();
        try {
            pending = true;
            woken.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until woken or until {@code timeout} passes; clears the wake. True when woken. */
    public boolean await(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (!pending && nanos > 0) {
                nanos = woken.awaitNanos(nanos);
            }
            boolean wasWoken = pending;
            pending = false;
            return wasWoken;
        } finally {
            lock.unlock();
        }
    }

    /** Waits without a time limit; clears the wake. */
    public void await() throws InterruptedException {
        lock.lock();
        try {
            while (!pending) {
                woken.await();
            }
            pending = false;
        } finally {
            lock.unlock();
        }
    }
}
