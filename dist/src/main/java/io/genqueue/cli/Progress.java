package io.genqueue.cli;

import io.genqueue.client.LogLine;
import io.genqueue.client.Status;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The progress of a waited-for request on standard error: its queue position, then running with
 * the time since it started and its log lines, then how it ended. On a terminal the status line
 * is rewritten in place; otherwise each change is a plain line of its own (for logs and pipes).
 * Called on the one thread that waits.
 */
final class Progress implements Consumer<Status> {

    private final PrintWriter err;
    private final boolean terminal;
    private int logsShown;
    private String lastState;
    private long runningSince;
    private boolean lineOpen;

    Progress(PrintWriter err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void accept(Status status) {
        if (status.state() != Status.State.IN_QUEUE && runningSince == 0) {
            runningSince = System.nanoTime();
        }
        for (int i = logsShown; i < status.logs().size(); i++) {
            LogLine log = status.logs().get(i);
            clearLine();
            err.println("  " + log.level().toLowerCase(Locale.ROOT) + ": " + log.message());
        }
        logsShown = Math.max(logsShown, status.logs().size());
        // what the line says, without the clock: a plain line is printed only when this changes
        String state = switch (status.state()) {
            case IN_QUEUE -> status.requestId() + ": in queue, position " + status.queuePosition();
            case IN_PROGRESS -> status.requestId() + ": running";
            case COMPLETED -> status.requestId() + ": " + (status.succeeded() ? "completed" : status.errorTypeWire());
        };
        String line = state + switch (status.state()) {
            case IN_QUEUE -> "";
            case IN_PROGRESS -> ", " + elapsed();
            case COMPLETED -> runningSince == 0 ? "" : " after " + elapsed();
        };
        if (terminal) {
            err.print("\r\033[K" + line);
            lineOpen = true;
            if (status.isCompleted()) {
                err.println();
                lineOpen = false;
            }
        } else if (!state.equals(lastState)) {
            err.println(line);
        }
        err.flush();
        lastState = state;
    }

    private void clearLine() {
        if (terminal && lineOpen) {
            err.print("\r\033[K");
            lineOpen = false;
        }
    }

    private String elapsed() {
        return String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - runningSince) / 1e9);
    }
}
