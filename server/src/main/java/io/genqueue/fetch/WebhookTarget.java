package io.genqueue.fetch;

import java.util.Objects;

/**
 * A webhook URL that passed {@link WebhookPoster#check}: http or https, well formed, and not an IP
 * address the service refuses. A host name is decided only at each {@link WebhookPoster#post},
 * when it is resolved. {@link #toString()} is the {@link #safeDescription()}, so a target can be
 * logged as it is.
 */
public final class WebhookTarget {

    private final String url;
    private final FetchUrl parsed;

    WebhookTarget(String url, FetchUrl parsed) {
        this.url = url;
        this.parsed = parsed;
    }

    /**
     * The URL exactly as the client gave it, query string included. Its query often carries a
     * secret: store it, send to it, never log it.
     */
    public String url() {
        return url;
    }

    /** The host as written (lower case, an IPv6 address in brackets), for logs: "Webhook delivered to HOST". */
    public String host() {
        return parsed.host();
    }

    /** Scheme, host, port (unless the default) and path, for logs: never the query string or fragment. */
    public String safeDescription() {
        return parsed.withoutQuery();
    }

    FetchUrl fetchUrl() {
        return parsed;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof WebhookTarget target && target.url.equals(url);
    }

    @Override
    public int hashCode() {
        return Objects.hash(url);
    }

    @Override
    public String toString() {
        return safeDescription();
    }
}
