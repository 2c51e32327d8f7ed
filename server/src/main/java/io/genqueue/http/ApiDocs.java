package io.genqueue.http;

import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/**
 * {@code GET /openapi.json}, {@code GET /docs} and {@code GET /docs/{file}}: the OpenAPI document
 * of the API (the resource {@code openapi/openapi.json}, written by hand and served as it is) and
 * Swagger UI rendering it, all from the jar: the page works without internet. No key needed:
 * they describe the API, never anyone's requests.
 *
 * <p>Only the files named here can be served, so no path reaches anything else on the classpath.
 */
final class ApiDocs {

    private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/";
    private static final String SWAGGER_UI_VERSION = "META-INF/maven/org.webjars/swagger-ui/pom.properties";

    private final ResourceFile document;
    private final ResourceFile page;
    private final Map<String, ResourceFile> files;

    ApiDocs() {
        String ui = SWAGGER_UI + swaggerUiVersion() + "/";
        this.document = ResourceFile.of("openapi/openapi.json", "application/json");
        this.page = ResourceFile.of("openapi/docs.html", "text/html; charset=utf-8");
        this.files = Map.of(
                "docs.js", ResourceFile.of("openapi/docs.js", "text/javascript; charset=utf-8"),
                "swagger-ui-bundle.js", ResourceFile.of(ui + "swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
                "swagger-ui.css", ResourceFile.of(ui + "swagger-ui.css", "text/css; charset=utf-8"),
                "favicon-32x32.png", ResourceFile.of(ui + "favicon-32x32.png", "image/png"));
    }

    void document(ServerRequest req, ServerResponse res) throws IOException {
        document.send(res);
    }

    void page(ServerRequest req, ServerResponse res) throws IOException {
        page.send(res);
    }

    void file(ServerRequest req, ServerResponse res) throws IOException {
        ResourceFile file = files.get(req.path().pathParameters().get("file"));
        if (file == null) {
            throw ApiError.detail(404, "Not found");
        }
        file.send(res);
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

    private static InputStream stream(String name) throws IOException {
        InputStream in = ApiDocs.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("missing from the classpath: " + name);
        }
        return in;
    }
}
