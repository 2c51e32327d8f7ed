package io.genqueue.http;

import io.genqueue.blob.BlobStore;
import io.genqueue.blob.FsBlobStore;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * {@code GET /files/<job id>/<n>.<ext>?expires=..&sig=..}: serves a stored image to whoever holds a
 * valid signed link. The key must match the blob store's strict pattern, so no path can reach
 * outside it; a bad or expired signature is 403, a deleted image 404.
 */
final class FileRoute {

    private final BlobStore blobs;
    private final LinkSigner links;

    FileRoute(BlobStore blobs, LinkSigner links) {
        this.blobs = blobs;
        this.links = links;
    }

    void handle(ServerRequest req, ServerResponse res) throws IOException {
        String key = req.path().pathParameters().get("job") + "/" + req.path().pathParameters().get("file");
        if (!FsBlobStore.validKey(key)) {
            throw ApiError.detail(404, "File not found");
        }
        String expires = req.query().first("expires").orElse("");
        String sig = req.query().first("sig").orElse("");
        if (!links.verify(key, expires, sig)) {
            throw ApiError.detail(403, "Invalid or expired link; fetch the request's response again for fresh links.");
        }
        BlobStore.Blob blob = blobs.open(key).orElseThrow(() -> ApiError.detail(404, "File not found"));
        try (InputStream in = blob.stream()) {
            res.header(HeaderNames.CONTENT_TYPE, contentType(key));
            res.header(HeaderNames.CACHE_CONTROL, "private, max-age=3600");
            res.header("X-Content-Type-Options", "nosniff");
            res.contentLength(blob.size());
            try (OutputStream out = res.outputStream()) {
                in.transferTo(out);
            }
        }
    }

    private static String contentType(String key) {
        if (key.endsWith(".png")) {
            return "image/png";
        }
        if (key.endsWith(".jpg")) {
            return "image/jpeg";
        }
        return "image/webp";
    }
}
