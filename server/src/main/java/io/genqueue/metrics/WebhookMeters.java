package io.genqueue.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Webhook attempts, once recorded: {@code genqueue_webhook_deliveries_total{outcome}} with
 * {@code delivered} (a 2xx), {@code retried} (a failed attempt that will be tried again) and
 * {@code given_up} (the last try failed). Thread-safe.
 */
public final class WebhookMeters {

    private final Counter delivered;
    private final Counter retried;
    private final Counter givenUp;

    WebhookMeters(MeterRegistry registry) {
        delivered = counter(registry, "delivered");
        retried = counter(registry, "retried");
        givenUp = counter(registry, "given_up");
    }

    private static Counter counter(MeterRegistry registry, String outcome) {
        return Counter.builder("genqueue.webhook.deliveries").description("Webhook delivery attempts, by outcome")
                .tag("outcome", outcome).register(registry);
    }

    public void delivered() {
        delivered.increment();
    }

    public void retried() {
        retried.increment();
    }

    public void givenUp() {
        givenUp.increment();
    }
}
