package io.genqueue.cli;

import io.genqueue.app.Commands;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * {@code java -jar target/genqueue.jar serve|keys|emulate|submit|status|result|cancel ...}: the
 * server's commands, the provider emulators, and the client commands (on the Java client), in one
 * program.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        boolean terminal = System.console() != null;
        System.exit(commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true), terminal).execute(args));
    }

    /** The whole command line writing to {@code out} and {@code err}; {@code terminal}: progress is redrawn in place. */
    static CommandLine commandLine(PrintWriter out, PrintWriter err, boolean terminal) {
        return Commands.create(out, err)
                .addSubcommand(new EmulateCommand())
                .addSubcommand(new SubmitCommand(terminal))
                .addSubcommand(new StatusCommand())
                .addSubcommand(new ResultCommand())
                .addSubcommand(new CancelCommand())
                .setOut(out) // again: picocli hands the writers only to the subcommands present when they are set
                .setErr(err);
    }
}
