package io.genqueue.http;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.util.Map;

/**
 * {@code GET /} and {@code GET /playground/{file}}: a page to try the API in a browser (a prompt,
 * reference images, the options, live status, the images). HTML, CSS and plain JavaScript from the
 * jar (the resources under {@code playground/}), no build step, nothing from another origin, so
 * it works without internet. No key needed to load it: the page only calls the public API, with
 * the key the person types, kept in that browser's local storage and sent only in the
 * {@code Authorization} header, never in a URL.
 *
 * <p>Only the files named here can be served, so no path reaches anything else on the classpath.
 */
final class Playground {

    /**
     * Scripts and styles only from this origin, no inline script; images also from anywhere
     * (reference images by URL, presigned object-store links) and as {@code data:} URIs.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; img-src * data: blob:; "
            + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    private final ResourceFile page = ResourceFile.of("playground/index.html", "text/html; charset=utf-8");
    private final Map<String, ResourceFile> files = Map.of(
            "playground.js", ResourceFile.of("playground/playground.js", "text/javascript; charset=utf-8"),
            "playground.css", ResourceFile.of("playground/playground.css", "text/css; charset=utf-8"));

    void page(ServerRequest req, ServerResponse res) throws IOException {
        res.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        page.send(res);
    }

    void file(ServerRequest req, ServerResponse res) throws IOException {
        ResourceFile file = files.get(req.path().pathParameters().get("file"));
        if (file == null) {
            throw ApiError.detail(404, "Not found");
        }
        file.send(res);
    }
}
