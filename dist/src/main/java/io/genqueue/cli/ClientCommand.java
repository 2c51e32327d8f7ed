package io.genqueue.cli;

import io.genqueue.client.FieldError;
import io.genqueue.client.GenQueueClient;
import io.genqueue.client.GenQueueException;
import io.genqueue.client.InvalidInputException;
import io.genqueue.client.RequestFailedException;
import io.genqueue.client.UnreachableException;
import io.genqueue.client.WaitTimeoutException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the client commands share: where the server is, the key, and how an error becomes one line
 * on standard error and an exit code of {@link ExitCodes}. The key is never printed.
 */
abstract class ClientCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--url", defaultValue = "${env:GENQUEUE_URL:-http://localhost:8080}",
            description = "The server's root (GENQUEUE_URL, default ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--key", defaultValue = "${env:GENQUEUE_KEY}",
            description = "API key (GENQUEUE_KEY; the variable keeps it out of the process list).")
    String key;

    /** The command's work; exceptions of the client are turned into exit codes by {@link #call()}. */
    abstract int run(GenQueueClient client);

    @Override
    public final Integer call() {
        try (GenQueueClient client = GenQueueClient.builder().baseUrl(url).apiKey(key).build()) {
            return run(client);
        } catch (InvalidInputException e) {
            err().println("genqueue: the request was refused" + (e.fromServer() ? " by the server" : "") + ":");
            for (FieldError f : e.fieldErrors()) {
                err().println("  " + f.field() + ": " + f.msg());
            }
            return ExitCodes.BAD_INPUT;
        } catch (RequestFailedException.Cancelled e) {
            err().println("genqueue: request " + e.requestId() + " was cancelled");
            return ExitCodes.CANCELLED;
        } catch (RequestFailedException e) {
            err().println("genqueue: request " + e.requestId() + " failed (" + e.errorTypeWire() + "): " + e.error());
            return ExitCodes.FAILED;
        } catch (UnreachableException e) {
            err().println("genqueue: cannot reach the server at " + url + ": " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        } catch (WaitTimeoutException e) {
            err().println("genqueue: " + e.getMessage());
            return ExitCodes.WAIT_TIMEOUT;
        } catch (BadInput e) {
            err().println("genqueue: " + e.getMessage());
            return ExitCodes.BAD_INPUT;
        } catch (UncheckedIOException e) {
            err().println("genqueue: " + e.getMessage());
            return ExitCodes.OTHER;
        } catch (GenQueueException | IllegalArgumentException e) {
            err().println("genqueue: " + e.getMessage());
            return ExitCodes.OTHER;
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** A flag's value that cannot be used (a --ref file that is missing). */
    static final class BadInput extends RuntimeException {
        BadInput(String message) {
            super(message);
        }
    }
}
