package io.genqueue.provider;

/**
 * What {@code GET /v1/models} shows of one provider behind the router.
 *
 * @param state its circuit breaker's state, in lower case ({@code closed}, {@code open}, {@code half_open})
 * @param healthy whether it takes calls now
 * @param inFlight calls running now
 * @param concurrency the most calls it runs at once
 */
public record ProviderHealth(String provider, String state, boolean healthy, int inFlight, int concurrency) {
}
