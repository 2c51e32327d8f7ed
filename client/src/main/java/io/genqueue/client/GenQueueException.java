package io.genqueue.client;

/**
 * Everything the client throws about the service (misuse of the client itself is an
 * {@link IllegalArgumentException}). The kinds, each a subclass a caller can catch:
 * <ul>
 *   <li>{@link InvalidInputException}: the request breaks the contract's rules, found before
 *       sending or answered 422 at submit; carries each field's message;
 *   <li>{@link HttpException} and its nested classes: any other error answer, by HTTP status
 *       ({@code 4xx}: {@link HttpException.ClientError}, {@code 5xx}: {@link HttpException.ServerError});
 *   <li>{@link RequestFailedException} and its nested classes: the request ran and ended without
 *       images, one class per {@code error_type};
 *   <li>{@link UnreachableException}: no answer from the server, after the retries;
 *   <li>{@link WaitTimeoutException}: a wait for completion ran out of time (the request goes on).
 * </ul>
 * Messages never contain the API key.
 */
public abstract class GenQueueException extends RuntimeException {

    GenQueueException(String message) {
        super(message);
    }

    GenQueueException(String message, Throwable cause) {
        super(message, cause);
    }
}
