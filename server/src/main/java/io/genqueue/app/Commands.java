package io.genqueue.app;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The server's command line ({@code serve}, {@code keys}, {@code webhook-keys}, {@code usage}). The shipped program (the dist module's
 * {@code Main}) adds {@code emulate} to it: the server itself does not depend on the emulators.
 */
@Command(name = "genqueue", mixinStandardHelpOptions = true, versionProvider = Commands.Version.class,
        description = "A self-hosted queue gateway for AI image generation (the nano_banana queue API).",
        subcommands = {ServeCommand.class, KeysCommand.class, WebhookKeysCommand.class, UsageCommand.class})
public final class Commands implements Runnable {

    @Spec
    CommandSpec spec;

    private Commands() {
    }

    /**
     * The command line writing to {@code out} and {@code err}; a failing command prints one line
     * ({@code genqueue: what went wrong}) and exits with 2.
     */
    public static CommandLine create(PrintWriter out, PrintWriter err) {
        return new CommandLine(new Commands())
                .setOut(out)
                .setErr(err)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("genqueue: " + e.getMessage());
                    return 2;
                });
    }

    /** Runs the command line with its output going to {@code out} and {@code err} (for tests). */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        return create(out, err).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Commands.class.getPackage().getImplementationVersion();
            return new String[] {"genqueue " + (version == null ? "(development build)" : version)};
        }
    }
}
