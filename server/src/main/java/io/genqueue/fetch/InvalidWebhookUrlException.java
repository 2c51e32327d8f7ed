package io.genqueue.fetch;

/**
 * A webhook URL that cannot be used: not http or https, malformed, too long, with a user name or
 * password, or an IP address that the service refuses to connect to. The message is for the
 * client who gave the URL (a 422 at {@code ["query","fal_webhook"]}): it names the problem and
 * never an internal detail.
 */
public final class InvalidWebhookUrlException extends IllegalArgumentException {

    InvalidWebhookUrlException(String message) {
        super(message);
    }
}
