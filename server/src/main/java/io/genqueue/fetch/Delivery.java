package io.genqueue.fetch;

import java.time.Duration;

/**
 * What one webhook delivery attempt came to. Only an {@link Answered} 2xx is {@link #delivered()};
 * every other answer, a 3xx included (redirects are not followed), is the receiver saying no.
 * Reasons are short phrases for logs that follow the host ("Webhook to HOST failed: connection
 * refused"), never the URL.
 */
public sealed interface Delivery {

    /** True when the receiver answered 2xx: it has the webhook. */
    default boolean delivered() {
        return false;
    }

    /**
     * The receiver answered.
     *
     * @param status the HTTP status
     * @param took from the start of the attempt (the name lookup included) to the answer's head
     */
    record Answered(int status, Duration took) implements Delivery {

        @Override
        public boolean delivered() {
            return status >= 200 && status <= 299;
        }
    }

    /** No answer: the name did not resolve, the connection failed or timed out, TLS failed, the answer was not HTTP. */
    record Failed(String reason) implements Delivery {
    }

    /** The host is, or resolves to, an address the service refuses to connect to; nothing was sent. */
    record Refused(String reason) implements Delivery {
    }
}
