package io.genqueue.provider;

import java.net.URI;
import java.time.Duration;

/**
 * How to reach one upstream provider.
 *
 * @param baseUrl the API's root (the real service, an emulator, or a proxy), without a trailing slash
 * @param apiKey the secret; never logged, never put in an error message
 * @param model the upstream model id (a setting, since providers retire models)
 * @param connectTimeout how long to wait for a TCP connection
 * @param callTimeout how long one upstream call may take in all, from sending to the last byte
 * @param sendsImageSize whether a request's size tier ({@link GenerationRequest#imageSize}) is passed
 *     upstream: the model's catalog route says so (older models refuse the field)
 */
public record ProviderSettings(URI baseUrl, String apiKey, String model, Duration connectTimeout, Duration callTimeout,
        boolean sendsImageSize) {

    /** Settings of a model that takes no size tier. */
    public ProviderSettings(URI baseUrl, String apiKey, String model, Duration connectTimeout, Duration callTimeout) {
        this(baseUrl, apiKey, model, connectTimeout, callTimeout, false);
    }

    @Override
    public String toString() {
        return "ProviderSettings[baseUrl=" + baseUrl + ", model=" + model + ", connectTimeout=" + connectTimeout
                + ", callTimeout=" + callTimeout + ", sendsImageSize=" + sendsImageSize + "]"; // no key
    }
}
