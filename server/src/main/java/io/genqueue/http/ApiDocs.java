package io.genqueue.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Map;
import java.util.Properties;

/**
 * {@code GET /openapi.json}, {@code GET /docs} and {@code GET /docs/{file}}: the OpenAPI document
 * of the API (the resource {@code openapi/openapi.json}, written by hand and served as it is) and
 * Swagger UI rendering it, all from the jar: the page works without internet. No key needed:
 * they describe the API, never anyone's requests.
 *
 * <p>Only the files named here can be served, so no path reaches anything else on the classpath.
 * Each is found when the server is built, so a missing one fails the start, not a request.
 */
final class ApiDocs {

    private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/";
    private static final String SWAGGER_UI_VERSION = "META-INF/maven/org.webjars/swagger-ui/pom.properties";

    private record Asset(URL url, String contentType) {
    }

    private final Asset document;
    private final Asset page;
    private final Map<String, Asset> files;

    ApiDocs() {
        String ui = SWAGGER_UI + swaggerUiVersion() + "/";
        this.document = asset("openapi/openapi.json", "application/json");
        this.page = asset("openapi/docs.html", "text/html; charset=utf-8");
        this.files = Map.of(
                "docs.js", asset("openapi/docs.js", "text/javascript; charset=utf-8"),
                "swagger-ui-bundle.js", asset(ui + "swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
                "swagger-ui.css", asset(ui + "swagger-ui.css", "text/css; charset=utf-8"),
                "favicon-32x32.png", asset(ui + "favicon-32x32.png", "image/png"));
    }

    void document(ServerRequest req, ServerResponse res) throws IOException {
        send(res, document);
    }

    void page(ServerRequest req, ServerResponse res) throws IOException {
        send(res, page);
    }

    void file(ServerRequest req, ServerResponse res) throws IOException {
        Asset asset = files.get(req.path().pathParameters().get("file"));
        if (asset == null) {
            throw ApiError.detail(404, "Not found");
        }
        send(res, asset);
    }

    private static void send(ServerResponse res, Asset asset) throws IOException {
        res.header(HeaderNames.CONTENT_TYPE, asset.contentType());
        res.header("X-Content-Type-Options", "nosniff");
        // The names carry no version: an upgrade shows within the hour.
        res.header(HeaderNames.CACHE_CONTROL, "public, max-age=3600");
        try (InputStream in = asset.url().openStream(); OutputStream out = res.outputStream()) {
            in.transferTo(out);
        }
    }

    /** The webjar's version, from the Maven metadata it carries: its files are under that name. */
    private static String swaggerUiVersion() {
        Properties properties = new Properties();
        try (InputStream in = stream(SWAGGER_UI_VERSION)) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String version = properties.getProperty("version");
        if (version == null) {
            throw new IllegalStateException(SWAGGER_UI_VERSION + " names no version");
        }
        return version;
    }

    private static Asset asset(String name, String contentType) {
        URL url = ApiDocs.class.getClassLoader().getResource(name);
        if (url == null) {
            throw new IllegalStateException("missing from the classpath: " + name);
        }
        return new Asset(url, contentType);
    }

    private static InputStream stream(String name) throws IOException {
        InputStream in = ApiDocs.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("missing from the classpath: " + name);
        }
        return in;
    }
}
