package io.genqueue.cli;

import io.genqueue.client.CancelOutcome;
import io.genqueue.client.GenQueueClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code cancel ID}: cancels a queued or running request. */
@Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a queued or running request.")
final class CancelCommand extends ClientCommand {

    @Parameters(index = "0", description = "The request id.")
    String id;

    @Override
    int run(GenQueueClient client) {
        CancelOutcome outcome = client.cancel(id);
        out().println(outcome == CancelOutcome.CANCELLATION_REQUESTED ? "cancellation requested" : "already completed");
        return ExitCodes.OK;
    }
}
