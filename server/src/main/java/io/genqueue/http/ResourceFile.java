package io.genqueue.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;

/**
 * A file of the jar served as it is: the API docs' and the playground's pages, scripts and
 * styles. Each is looked up when the route is built, so a missing one fails the server's start,
 * not a request.
 */
record ResourceFile(URL url, String contentType) {

    /** The classpath resource {@code name}. @throws IllegalStateException when it is missing */
    static ResourceFile of(String name, String contentType) {
        URL url = ResourceFile.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalStateException("missing from the classpath: " + name);
        }
        return new ResourceFile(url, contentType);
    }

    void send(ServerResponse res) throws IOException {
        res.header(HeaderNames.CONTENT_TYPE, contentType);
        res.header("X-Content-Type-Options", "nosniff");
        // The names carry no version: an upgrade shows within the hour.
        res.header(HeaderNames.CACHE_CONTROL, "public, max-age=3600");
        try (InputStream in = url.openStream(); OutputStream out = res.outputStream()) {
            in.transferTo(out);
        }
    }
}
