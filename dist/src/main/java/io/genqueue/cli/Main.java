package io.genqueue.cli;

import io.genqueue.app.Commands;
import java.io.PrintWriter;

/**
 * {@code java -jar target/genqueue.jar serve|keys|emulate ...}: the server's commands and the
 * provider emulators, in one program.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(Commands.create(new PrintWriter(System.out, true), new PrintWriter(System.err, true))
                .addSubcommand(new EmulateCommand())
                .execute(args));
    }
}
