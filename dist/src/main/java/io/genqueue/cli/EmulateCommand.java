package io.genqueue.cli;

import io.genqueue.emulator.Scenarios;
import io.genqueue.emulator.fal.FalEmulator;
import io.genqueue.emulator.gemini.GeminiEmulator;
import io.genqueue.emulator.openrouter.OpenRouterEmulator;
import java.net.URI;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code emulate PROVIDER}: runs a provider's emulator on its own, so that a whole genqueue can be
 * pointed at it ({@code GENQUEUE_GEMINI_BASE_URL=...}) as if at the real service.
 */
@Command(name = "emulate", mixinStandardHelpOptions = true,
        description = "Run a local emulator of an upstream provider (gemini, openrouter or fal) until stopped. "
                + "Choose what it answers with the X-Emulator-Scenario header or an [emulate:NAME] token in the prompt.")
final class EmulateCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "gemini, openrouter or fal")
    String provider;

    @Option(names = "--port", description = "Port (default 8090; 0 picks a free one).")
    int port = 8090;

    @Option(names = "--host", description = "Address to listen on (default 127.0.0.1).")
    String host = "127.0.0.1";

    @Option(names = "--key", description = "The only key it accepts (default: gemini and fal accept any non-empty key; "
            + "openrouter expects " + OpenRouterEmulator.DEFAULT_KEY + ").")
    String key;

    /** A running emulator, whichever it is. */
    private record Running(AutoCloseable server, URI baseUrl, String keyNote) {
    }

    @Override
    public Integer call() throws Exception {
        Running running = switch (provider) {
            case "gemini" -> {
                GeminiEmulator e = key == null ? GeminiEmulator.start(host, port) : GeminiEmulator.start(host, port, key);
                yield new Running(e, e.baseUrl(), key == null ? "any non-empty key" : "only the key given");
            }
            case "openrouter" -> {
                OpenRouterEmulator e = OpenRouterEmulator.start(host, port, key == null ? OpenRouterEmulator.DEFAULT_KEY : key);
                yield new Running(e, URI.create(e.baseUrl()), key == null ? OpenRouterEmulator.DEFAULT_KEY : "only the key given");
            }
            case "fal" -> {
                FalEmulator e = key == null ? FalEmulator.start(host, port) : FalEmulator.start(host, port, key);
                yield new Running(e, e.baseUrl(), key == null ? "any non-empty key" : "only the key given");
            }
            default -> null;
        };
        if (running == null) {
            System.err.println("genqueue: no emulator for '" + provider + "'; use gemini, openrouter or fal");
            return 2;
        }
        String setting = "GENQUEUE_" + provider.toUpperCase(java.util.Locale.ROOT) + "_BASE_URL";
        System.out.println(provider + " emulator on " + running.baseUrl() + " (accepts " + running.keyNote() + ")");
        System.out.println("Point genqueue at it: " + setting + "=" + running.baseUrl());
        System.out.println("Pick a scenario with the " + Scenarios.HEADER + " header or [emulate:NAME] in the prompt.");
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            try {
                running.server().close();
            } catch (Exception ignored) {
                // exiting anyway
            }
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
