package io.genqueue.client;

/**
 * The answer to a submit: the request is durably stored under {@code requestId}.
 *
 * @param queuePosition how many requests of the model start before this one (0 = next)
 */
public record Submitted(String requestId, String statusUrl, String responseUrl, String cancelUrl, int queuePosition) {
}
