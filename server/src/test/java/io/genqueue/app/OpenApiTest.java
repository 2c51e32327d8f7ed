package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.http.HttpApi;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /openapi.json} and {@code GET /docs} over HTTP: the document is valid OpenAPI 3.1, it
 * names exactly the routes the server registers, and the docs page renders it from files the
 * server itself serves. That answers match the document is checked on every answer every
 * end-to-end test gets ({@link TestServer#send}, {@link DocumentedApi}); the last test here also
 * drives one request through every queue route so that no run depends on which other tests ran.
 */
class OpenApiTest {

    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void the_document_is_served_without_a_key_exactly_as_the_resource_file_says() {
        TestServer.Response r = server.getWithoutKey("/openapi.json");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.body()).isEqualTo(DocumentedApi.get().text);
        assertThat(r.json().get("openapi").asText()).isEqualTo("3.1.0");
        assertThat(r.json().get("jsonSchemaDialect").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
    }

    @Test
    void the_document_parses_as_openapi_3_1_without_errors_or_warnings() {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(server.getWithoutKey("/openapi.json").body(), null, options);

        assertThat(result.getMessages()).isEmpty();
        OpenAPI api = result.getOpenAPI();
        assertThat(api).isNotNull();
        assertThat(api.getOpenapi()).isEqualTo("3.1.0");
        assertThat(api.getPaths()).containsKey("/v1/queue/{model}");
        assertThat(api.getWebhooks()).containsKey("requestCompleted");
    }

    @Test
    void every_registered_route_is_documented_and_every_documented_route_is_registered() {
        Set<String> registered = server.app.httpRoutes().stream().map(HttpApi.Route::toString)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> documented = new TreeSet<>();
        JsonNode paths = DocumentedApi.get().document.get("paths");
        paths.fieldNames().forEachRemaining(path -> paths.get(path).fieldNames().forEachRemaining(method -> {
            if (Set.of("get", "put", "post", "delete", "patch", "head", "options").contains(method)) {
                documented.add(method.toUpperCase(java.util.Locale.ROOT) + " " + path);
            }
        }));

        assertThat(registered).hasSizeGreaterThan(10);
        assertThat(documented).isEqualTo(registered);
    }

    @Test
    void the_document_covers_the_contract_s_queries_headers_and_error_shapes() {
        JsonNode doc = DocumentedApi.get().document;
        JsonNode submit = doc.at("/paths/~1v1~1queue~1{model}/post");
        Set<String> parameters = new TreeSet<>();
        submit.get("parameters").forEach(p -> parameters.add(p.has("$ref") ? p.get("$ref").asText() : p.get("in").asText() + ":" + p.get("name").asText()));

        assertThat(parameters).contains("query:fal_webhook", "header:Idempotency-Key", "header:X-Fal-Queue-Priority",
                "header:X-Fal-Request-Start-Timeout");
        assertThat(submit.at("/responses/429/headers/Retry-After/required").asBoolean()).isTrue();
        assertThat(submit.at("/responses/503/headers/Retry-After").isMissingNode()).isFalse();
        assertThat(submit.at("/responses/422/content/application~1json/schema/$ref").asText())
                .isEqualTo("#/components/schemas/ValidationError");
        assertThat(doc.at("/components/schemas/Violation/required").toString()).contains("loc", "msg", "type");
        assertThat(doc.at("/components/schemas/Error/required").toString()).contains("detail");
        assertThat(doc.at("/paths/~1v1~1queue~1{model}~1requests~1{request_id}~1status~1stream/get/responses/200/content")
                .has("text/event-stream")).isTrue();
    }

    @Test
    void an_answer_that_breaks_its_documentation_is_caught() {
        // The checker every test's answers go through must be able to fail: a submit answer
        // without its request id, and an error body of a shape the document does not allow.
        URI submit = URI.create(server.base + "/v1/queue/nano_banana");
        var json = java.net.http.HttpHeaders.of(java.util.Map.of("Content-Type", java.util.List.of("application/json")), (a, b) -> true);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DocumentedApi.get().check("POST", submit, 200, json,
                "{\"status\":\"IN_QUEUE\"}")).isInstanceOf(AssertionError.class).hasMessageContaining("X-Request-Id");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DocumentedApi.get().check("POST", submit, 415, json,
                "{\"message\":\"nope\"}")).isInstanceOf(AssertionError.class).hasMessageContaining("schema");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DocumentedApi.get().check("POST", submit, 418, json,
                "{\"detail\":\"teapot\"}")).isInstanceOf(AssertionError.class).hasMessageContaining("does not list");
        // an operation's default stands only for what the HTTP layer answers before any route runs
        URI status = URI.create(server.base + TestServer.statusPath("req_01jdx8c2m1w4n6q8s0t2v4x6z8"));
        DocumentedApi.get().check("GET", status, 431, json, "{\"detail\":\"Request headers are too large.\"}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DocumentedApi.get().check("GET", status, 409, json,
                "{\"detail\":\"conflict\"}")).isInstanceOf(AssertionError.class).hasMessageContaining("does not list");
    }

    @Test
    void the_docs_page_is_served_without_a_key_and_points_at_the_document() {
        TestServer.Response page = server.getWithoutKey("/docs");

        assertThat(page.status()).isEqualTo(200);
        assertThat(page.header("Content-Type")).startsWith("text/html");
        assertThat(page.body()).doesNotContain("http://", "https://");

        Set<String> linked = new TreeSet<>();
        Matcher m = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(page.body());
        while (m.find()) {
            linked.add(m.group(1));
        }
        assertThat(linked).contains("docs/swagger-ui-bundle.js", "docs/swagger-ui.css", "docs/docs.js");

        TestServer.Response init = server.getWithoutKey("/docs/docs.js");
        assertThat(init.body()).contains("url: \"openapi.json\"").contains("validatorUrl: null");
        // relative to the page's address, as a browser resolves it
        URI document = URI.create(server.base + "/docs").resolve("openapi.json");
        assertThat(document.getPath()).isEqualTo("/openapi.json");
    }

    @Test
    void the_docs_page_s_scripts_styles_and_icon_come_from_the_server_with_their_content_types() {
        TestServer.Response bundle = server.getWithoutKey("/docs/swagger-ui-bundle.js");
        TestServer.Response css = server.getWithoutKey("/docs/swagger-ui.css");
        TestServer.Response init = server.getWithoutKey("/docs/docs.js");
        TestServer.Response icon = server.getWithoutKey("/docs/favicon-32x32.png");

        assertThat(bundle.status()).isEqualTo(200);
        assertThat(bundle.header("Content-Type")).startsWith("text/javascript");
        assertThat(bundle.body()).contains("SwaggerUIBundle").hasSizeGreaterThan(100_000);
        assertThat(css.status()).isEqualTo(200);
        assertThat(css.header("Content-Type")).startsWith("text/css");
        assertThat(css.body()).contains(".swagger-ui");
        assertThat(init.status()).isEqualTo(200);
        assertThat(init.header("Content-Type")).startsWith("text/javascript");
        assertThat(icon.status()).isEqualTo(200);
        assertThat(icon.header("Content-Type")).isEqualTo("image/png");
    }

    @Test
    void a_file_the_docs_page_does_not_use_is_a_json_404() {
        TestServer.Response other = server.getWithoutKey("/docs/index.html");
        TestServer.Response outside = server.getWithoutKey("/docs/..%2Fopenapi%2Fopenapi.json");

        assertThat(other.status()).isEqualTo(404);
        assertThat(other.json().get("detail").asText()).isEqualTo("Not found");
        assertThat(outside.status()).isEqualTo(404);
    }

    @Test
    void another_method_on_a_documented_path_is_a_405_naming_the_documented_one() {
        TestServer.Response r = server.send(server.request("/openapi.json").POST(HttpRequest.BodyPublishers.noBody()).build());

        assertThat(r.status()).isEqualTo(405);
        assertThat(r.header("Allow")).isEqualTo("GET");
    }

    @Test
    void one_request_through_every_queue_route_answers_as_documented() {
        // Each answer here is checked against the document by TestServer.send.
        String id = server.submitOk("{\"prompt\":\"a lighthouse at dusk\",\"num_images\":2}");
        server.awaitCompleted(id);
        TestServer.Response status = server.get(TestServer.statusPath(id) + "?logs=1");
        TestServer.Response stream = server.get(TestServer.statusPath(id) + "/stream");
        TestServer.Response response = server.get(TestServer.responsePath(id));
        TestServer.Response alias = server.get("/v1/queue/nano_banana/requests/" + id);
        TestServer.Response file = server.send(HttpRequest.newBuilder(URI.create(response.json().at("/images/0/url").asText())).GET().build());
        TestServer.Response cancel = server.put(TestServer.cancelPath(id));
        TestServer.Response invalid = server.submit("{\"prompt\":\"\",\"aspect_ratio\":\"7:1\",\"image_urls\":[1]}");

        assertThat(status.status()).isEqualTo(200);
        assertThat(stream.status()).isEqualTo(200);
        assertThat(stream.body()).startsWith("data: {");
        assertThat(response.status()).isEqualTo(200);
        assertThat(alias.body()).isEqualTo(response.body());
        assertThat(file.status()).isEqualTo(200);
        assertThat(cancel.status()).isEqualTo(400);
        assertThat(invalid.status()).isEqualTo(422);
        assertThat(server.getWithoutKey("/v1/models").status()).isEqualTo(200);
        assertThat(server.getWithoutKey("/.well-known/jwks.json").status()).isEqualTo(200);
        assertThat(server.getWithoutKey("/healthz").status()).isEqualTo(200);
        assertThat(server.getWithoutKey("/readyz").status()).isEqualTo(200);
    }
}
