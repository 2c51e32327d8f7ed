package io.genqueue.app;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar genqueue.jar serve|keys ...}. */
@Command(name = "genqueue", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A self-hosted queue gateway for AI image generation (the nano_banana queue API).",
        subcommands = {ServeCommand.class, KeysCommand.class, EmulateCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code. */
    static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the command line with its output going to {@code out} and {@code err} (for tests). */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        return new CommandLine(new Main())
                .setOut(out)
                .setErr(err)
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    cmd.getErr().println("genqueue: " + e.getMessage());
                    return 2;
                })
                .execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"genqueue " + (version == null ? "(development build)" : version)};
        }
    }
}
