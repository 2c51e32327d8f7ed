package io.genqueue.queue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A store's listeners. Added at wiring time, called from the thread that committed (or heard of)
 * a change; a listener that throws is logged and the others still hear the event.
 */
public final class JobListeners {

    private static final Logger log = LoggerFactory.getLogger(JobListeners.class);

    private final List<JobListener> listeners = new CopyOnWriteArrayList<>();

    public void add(JobListener listener) {
        listeners.add(listener);
    }

    /** Tells every listener, in the order they were added. */
    public void emit(Consumer<JobListener> event) {
        for (JobListener listener : listeners) {
            try {
                event.accept(listener);
            } catch (RuntimeException e) {
                log.error("a job listener failed", e);
            }
        }
    }
}
