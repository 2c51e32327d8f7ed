package io.genqueue.cli;

import io.genqueue.client.GenQueueClient;
import io.genqueue.client.LogLine;
import io.genqueue.client.Status;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code status ID}: prints a request's state (and its log lines), one line each. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show a request's status.")
final class StatusCommand extends ClientCommand {

    @Parameters(index = "0", description = "The request id.")
    String id;

    @Override
    int run(GenQueueClient client) {
        Status s = client.status(id, true);
        String line = switch (s.state()) {
            case IN_QUEUE -> "IN_QUEUE position " + s.queuePosition();
            case IN_PROGRESS -> "IN_PROGRESS";
            case COMPLETED -> s.succeeded() ? "COMPLETED" : "COMPLETED " + s.errorTypeWire() + ": " + s.error();
        };
        out().println(line);
        for (LogLine log : s.logs()) {
            out().println("  " + log.level() + " " + log.message());
        }
        return ExitCodes.OK;
    }
}
