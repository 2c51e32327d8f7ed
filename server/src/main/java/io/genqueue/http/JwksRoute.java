package io.genqueue.http;

import io.genqueue.webhook.Jwks;
import io.genqueue.webhook.SigningKey;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code GET /.well-known/jwks.json}: the public keys webhook receivers verify our signatures with,
 * where fal's receivers look for fal's. No key needed: it holds public keys only (the JWK members
 * {@link Jwks} writes), read from the store on each request so a rotation shows at once.
 * Receivers may keep it five minutes.
 */
record JwksRoute(Supplier<List<SigningKey>> published) {

    static final String CACHE_CONTROL = "public, max-age=300";

    void handle(ServerRequest req, ServerResponse res) {
        List<SigningKey> keys = published.get(); // a failing store throws before any header is set: ErrorMapper's 503
        res.header("Cache-Control", CACHE_CONTROL);
        Responses.json(res, 200, Jwks.document(keys));
    }
}
