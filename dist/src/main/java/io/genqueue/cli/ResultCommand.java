package io.genqueue.cli;

import io.genqueue.client.GenQueueClient;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code result ID [--out DIR|FILE]}: writes a completed request's images and prints their paths. */
@Command(name = "result", mixinStandardHelpOptions = true, description = "Download a completed request's images.")
final class ResultCommand extends ClientCommand {

    @Parameters(index = "0", description = "The request id.")
    String id;

    @Option(names = "--out", defaultValue = ".", description = "A directory (default the current one) or a file.")
    Path out;

    @Override
    int run(GenQueueClient client) {
        for (Path written : ImageFiles.write(client, client.result(id), out)) {
            out().println(written);
        }
        return ExitCodes.OK;
    }
}
