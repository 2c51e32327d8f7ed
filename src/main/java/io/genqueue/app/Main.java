package io.genqueue.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar genqueue.jar serve|keys ...}. */
@Command(name = "genqueue", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A self-hosted queue gateway for AI image generation (the nano_banana queue API).",
        subcommands = {ServeCommand.class, KeysCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (tests call this instead of {@link #main}). */
    static int run(String... args) {
        return new CommandLine(new Main())
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
