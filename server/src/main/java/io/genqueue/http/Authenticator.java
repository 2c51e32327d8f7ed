package io.genqueue.http;

import io.genqueue.auth.ApiKey;
import io.genqueue.auth.KeyStore;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.util.List;
import java.util.Locale;

/**
 * Who is calling: the tenant of the key in {@code Authorization: Bearer <key>} or fal's
 * {@code Authorization: Key <key>}. A missing, malformed, unknown or revoked key is a 401; the
 * messages say which of those, but never echo the key.
 */
final class Authenticator {

    private final KeyStore keys;

    Authenticator(KeyStore keys) {
        this.keys = keys;
    }

    /** Whether the caller's key is an admin key ({@code keys create --admin}); 401 for a missing or bad key, as {@link #key}. */
    boolean isAdmin(ServerRequest req) {
        return key(req).admin();
    }

    /**
     * The caller's key when it is an admin key. @throws ApiError 401 for a missing or bad key, 403 for a key
     * that is not an admin key
     */
    ApiKey admin(ServerRequest req) {
        ApiKey key = key(req);
        if (!key.admin()) {
            throw ApiError.detail(403, "This route needs an admin key (keys create --admin).");
        }
        return key;
    }

    /** The caller's key (its tenant and limits). @throws ApiError 401 */
    ApiKey key(ServerRequest req) {
        List<String> values = req.headers().values(HeaderNames.AUTHORIZATION);
        if (values.isEmpty()) {
            throw ApiError.unauthorized("Missing API key: send 'Authorization: Bearer <key>' (or 'Key <key>').");
        }
        if (values.size() > 1) {
            throw ApiError.unauthorized("Send one Authorization header, not " + values.size() + ".");
        }
        String value = values.get(0).strip();
        int space = value.indexOf(' ');
        String scheme = space < 0 ? value : value.substring(0, space);
        String lower = scheme.toLowerCase(Locale.ROOT);
        if (space < 0 || !(lower.equals("bearer") || lower.equals("key"))) {
            throw ApiError.unauthorized("Unsupported Authorization scheme: use 'Bearer <key>' or 'Key <key>'.");
        }
        String key = value.substring(space + 1).strip();
        ApiKey caller = keys.authenticate(key).orElseThrow(() -> ApiError.unauthorized("Invalid or revoked API key."));
        AccessLog.tenant(req, caller.tenant());
        return caller;
    }
}
