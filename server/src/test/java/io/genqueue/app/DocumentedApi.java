package io.genqueue.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.genqueue.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The OpenAPI document the server serves ({@code openapi/openapi.json}), as a checker of real
 * answers: {@link #check} fails when an answer of a documented operation has a status, a content
 * type, a required header or a body its documentation does not allow. {@link TestServer} runs it
 * on every answer, so every end-to-end test also holds the document to the code.
 *
 * <p>Answers of paths or methods the document has no operation for (the 404 and 405 of unrouted
 * requests) are not checked here: that every registered route is documented, and the reverse,
 * is {@code OpenApiTest}'s.
 */
final class DocumentedApi {

    /** Where the document's schemas are registered for the validator; never fetched. */
    private static final String IRI = "https://genqueue.invalid/openapi.json";

    /**
     * What the HTTP layer answers on any route before the route runs ({@code ErrorMapper.directHandler}):
     * the only statuses an operation's {@code default} response stands for here. Any other status
     * a route answers must be listed under its own code.
     */
    private static final Set<Integer> HTTP_LAYER_STATUSES = Set.of(400, 413, 414, 431, 501, 505);

    private static final DocumentedApi INSTANCE = new DocumentedApi();

    final String text;
    final JsonNode document;
    private final List<Template> templates;
    private final SchemaRegistry schemas;
    private final Map<String, Schema> compiled = new ConcurrentHashMap<>();

    private record Template(String path, Pattern pattern, int parameters) {
    }

    private DocumentedApi() {
        try (InputStream in = DocumentedApi.class.getClassLoader().getResourceAsStream("openapi/openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi/openapi.json is not on the classpath");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            document = Json.mapper().readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Template> list = new ArrayList<>();
        document.get("paths").fieldNames().forEachRemaining(path -> list.add(template(path)));
        // the most literal template first, should two match one path
        list.sort(Comparator.comparingInt(Template::parameters));
        templates = List.copyOf(list);
        schemas = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12, b -> b.schemas(Map.of(IRI, text)));
    }

    static DocumentedApi get() {
        return INSTANCE;
    }

    /** The documented path template {@code path} (no query) falls under, if any. */
    Optional<String> templateOf(String path) {
        return templates.stream().filter(t -> t.pattern().matcher(path).matches()).map(Template::path).findFirst();
    }

    /**
     * Fails when this answer breaks the documentation of its operation.
     *
     * @param method the request's method
     * @param uri the request's URI
     */
    void check(String method, URI uri, int status, HttpHeaders headers, String body) {
        String path = uri.getRawPath();
        Optional<String> template = templateOf(path);
        if (template.isEmpty()) {
            return;
        }
        String where = method + " " + template.get();
        JsonNode operation = document.get("paths").get(template.get()).get(method.toLowerCase(Locale.ROOT));
        if (operation == null) {
            return;
        }
        JsonNode responses = operation.get("responses");
        String statusKey = Integer.toString(status);
        if (!responses.has(statusKey) && HTTP_LAYER_STATUSES.contains(status) && responses.has("default")) {
            statusKey = "default";
        }
        if (!responses.has(statusKey)) {
            throw new AssertionError(where + " answered " + status + ", which the OpenAPI document does not list ("
                    + fieldNames(responses) + "); body: " + body);
        }
        String pointer = "/paths/" + escape(template.get()) + "/" + method.toLowerCase(Locale.ROOT) + "/responses/" + statusKey;
        JsonNode response = responses.get(statusKey);
        if (response.has("$ref")) {
            pointer = response.get("$ref").asText().substring(1);
            response = at(pointer);
        }
        String label = where + " " + status;
        checkHeaders(label, response, headers);
        JsonNode content = response.get("content");
        if (content == null) {
            return;
        }
        String contentType = headers.firstValue("Content-Type").orElse("");
        String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        JsonNode media = content.get(mediaType);
        if (media == null) {
            throw new AssertionError(label + " answered Content-Type '" + contentType + "'; documented: " + fieldNames(content));
        }
        String mediaPointer = pointer + "/content/" + escape(mediaType);
        if (mediaType.equals("application/json")) {
            validate(label, mediaPointer + "/schema", body);
        } else if (mediaType.equals("text/event-stream") && media.has("x-event-data-schema")) {
            for (String data : eventData(body)) {
                validate(label + " event", mediaPointer + "/x-event-data-schema", data);
            }
        }
    }

    /**
     * {@link #check} for a raw exchange: the method and target are read from the request line of
     * {@code request}; a request without a well-formed one is not checked.
     */
    void checkRaw(byte[] request, RawHttp.Answer answer) {
        String text = new String(request, 0, Math.min(request.length, 8192), StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n");
        String[] line = (end < 0 ? text : text.substring(0, end)).split(" ", -1);
        if (line.length != 3 || !line[0].matches("[A-Z]+") || !line[1].startsWith("/")) {
            return;
        }
        URI uri;
        try {
            uri = new URI(line[1]);
        } catch (java.net.URISyntaxException e) {
            return;
        }
        HttpHeaders headers = HttpHeaders.of(answer.headers(), (name, value) -> true);
        check(line[0], uri, answer.status(), headers, answer.bodyText());
    }

    /**
     * Fails when a webhook delivery breaks the document's {@code webhooks.requestCompleted}: a
     * required header missing, or a body its schema does not allow.
     *
     * @param headers the delivery's headers, names in lower case
     */
    void checkWebhook(Map<String, String> headers, String body) {
        String pointer = "/webhooks/requestCompleted/post";
        for (JsonNode parameter : at(pointer + "/parameters")) {
            String name = parameter.get("name").asText().toLowerCase(Locale.ROOT);
            if (parameter.path("required").asBoolean(false) && !headers.containsKey(name)) {
                throw new AssertionError("a webhook delivery lacks the header " + name + " that the OpenAPI document requires; "
                        + "headers: " + headers.keySet());
            }
        }
        validate("webhook delivery", pointer + "/requestBody/content/application~1json/schema", body);
    }

    private void checkHeaders(String label, JsonNode response, HttpHeaders headers) {
        JsonNode documented = response.get("headers");
        if (documented == null) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = documented.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> header = it.next();
            JsonNode spec = header.getValue().has("$ref") ? at(header.getValue().get("$ref").asText().substring(1)) : header.getValue();
            if (spec.path("required").asBoolean(false) && headers.firstValue(header.getKey()).isEmpty()) {
                throw new AssertionError(label + " lacks the header " + header.getKey() + " that the OpenAPI document requires; headers: "
                        + headers.map());
            }
        }
    }

    private void validate(String label, String pointer, String json) {
        Schema schema = compiled.computeIfAbsent(pointer, p -> schemas.getSchema(SchemaLocation.of(IRI + "#" + p)));
        var errors = schema.validate(json, InputFormat.JSON);
        if (!errors.isEmpty()) {
            throw new AssertionError(label + ": the body does not match its schema in the OpenAPI document: " + errors
                    + "\nbody: " + json);
        }
    }

    private JsonNode at(String pointer) {
        JsonNode node = document.at(pointer);
        if (node.isMissingNode()) {
            throw new AssertionError("the OpenAPI document has nothing at " + pointer);
        }
        return node;
    }

    /** The {@code data:} of each server-sent event in {@code body}. */
    private static List<String> eventData(String body) {
        List<String> out = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.startsWith("data:")) {
                out.add(line.substring(5).strip());
            }
        }
        return out;
    }

    private static Template template(String path) {
        StringBuilder regex = new StringBuilder();
        int parameters = 0;
        for (String segment : path.substring(1).split("/", -1)) {
            regex.append('/');
            if (segment.startsWith("{") && segment.endsWith("}")) {
                regex.append("[^/]+");
                parameters++;
            } else {
                regex.append(Pattern.quote(segment));
            }
        }
        return new Template(path, Pattern.compile(regex.toString()), parameters);
    }

    /** A JSON pointer token (RFC 6901). */
    private static String escape(String token) {
        return token.replace("~", "~0").replace("/", "~1");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
