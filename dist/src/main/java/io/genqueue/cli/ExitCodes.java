package io.genqueue.cli;

/**
 * The exit codes of the client commands ({@code submit}, {@code status}, {@code result},
 * {@code cancel}); the README lists them. 2 is also what every other command exits with on failure.
 */
final class ExitCodes {
    static final int OK = 0;
    /** Any other failure: a wrong key, an unknown request id, a result not ready, bad usage. */
    static final int OTHER = 2;
    /** The request ended failed (any {@code error_type} but {@code cancelled}). */
    static final int FAILED = 3;
    /** The request ended cancelled. */
    static final int CANCELLED = 4;
    /** The input breaks the contract's rules (found before sending, or the server's 422), or a --ref file is unreadable. */
    static final int BAD_INPUT = 5;
    /** The server did not answer (after the client's retries). */
    static final int UNREACHABLE = 6;
    /** {@code --wait} ran out of time; the request goes on. */
    static final int WAIT_TIMEOUT = 7;

    private ExitCodes() {
    }
}
