package io.genqueue.app;

import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code serve}: runs the server until SIGTERM or SIGINT, then stops gracefully. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Start the server. Settings come from these flags, GENQUEUE_* environment variables and an "
                + "optional config file, in that order of precedence.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--port", description = "HTTP port (GENQUEUE_PORT, default 8080).")
    String port;

    @Option(names = "--host", description = "Address to listen on (GENQUEUE_HOST, default 0.0.0.0).")
    String host;

    @Option(names = "--data-dir", description = "Data directory (GENQUEUE_DATA_DIR, default ./data).")
    String dataDir;

    @Option(names = "--role", description = "api, worker or all (GENQUEUE_ROLE, default all).")
    String role;

    @Option(names = "--config", description = "A file of GENQUEUE_NAME=value lines (GENQUEUE_CONFIG).")
    Path config;

    @Override
    public Integer call() throws InterruptedException {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        if (port != null) {
            flags.put(Setting.PORT, port);
        }
        if (host != null) {
            flags.put(Setting.HOST, host);
        }
        if (dataDir != null) {
            flags.put(Setting.DATA_DIR, dataDir);
        }
        if (role != null) {
            flags.put(Setting.ROLE, role);
        }
        Settings settings;
        try {
            settings = Settings.load(flags, config, System.getenv());
        } catch (Settings.InvalidSettings e) {
            System.err.println("genqueue: " + e.getMessage());
            return 2;
        }
        Application app = Application.start(settings, Clock.systemUTC(), System.out);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("genqueue-shutdown").unstarted(() -> {
            app.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
