package io.genqueue.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.genqueue.auth.ApiKey;
import io.genqueue.blob.BlobStore;
import io.genqueue.generation.GenerationInput;
import io.genqueue.generation.InputValidator;
import io.genqueue.generation.ValidationException;
import io.genqueue.generation.Violation;
import io.genqueue.image.ImageProbe;
import io.genqueue.queue.JobEvents;
import io.genqueue.queue.JobResult;
import io.genqueue.queue.JobState;
import io.genqueue.queue.JobStore;
import io.genqueue.queue.JobView;
import io.genqueue.queue.StoredImage;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * OpenAI's images API in front of the queue: {@code POST /v1/images/generations} (JSON) and
 * {@code POST /v1/images/edits} (multipart, the {@code image} or {@code image[]} files becoming the
 * job's reference images as data URIs). A call is a submit (the same key, limits, validation, store,
 * logs and usage; no webhook) whose handler then waits for its job, up to the configured timeout,
 * and answers in OpenAI's shape: {@code {"created", "data": [{"b64_json"|"url"}], "output_format", "size"}}.
 *
 * <p>The request is translated into the queue's submit fields ({@code model} is a served model id,
 * {@code n} is {@code num_images}, {@code size} goes through {@link OpenAiSizes}) and checked by the
 * one {@link InputValidator}; OpenAI's fields the models have no use for are accepted when their value
 * asks for nothing the model cannot do ({@code quality}, {@code style}, {@code moderation},
 * {@code output_compression}, {@code user}, {@code input_fidelity}, {@code background} other than
 * {@code transparent}) and refused otherwise ({@code stream}, {@code partial_images}, {@code mask}).
 *
 * <p>A client that closes its connection while waiting cancels its job ({@link ClientWatch}); a
 * wait that times out cancels it too, since nobody would receive its result. Errors take OpenAI's
 * shape in {@link ErrorMapper}, for every answer of these paths.
 */
final class OpenAiImages {

    static final String GENERATIONS = "/v1/images/generations";
    static final String EDITS = "/v1/images/edits";
    private static final Set<String> PATHS = Set.of(GENERATIONS, EDITS);
    private static final Duration RECHECK = Duration.ofSeconds(1);
    private static final Set<String> QUALITIES = Set.of("auto", "low", "medium", "high", "standard", "hd");
    private static final Set<String> MULTIPART_NUMBERS = Set.of("n", "output_compression", "partial_images");
    private static final Set<String> MULTIPART_BOOLEANS = Set.of("stream");

    private final JobLookup lookup;
    private final SubmitHandler submit;
    private final JobHandlers jobs;
    private final Map<String, InputValidator> validators; // each served model's, by id
    private final JobStore store;
    private final BlobStore blobs;
    private final ImageLinks links;
    private final BaseUrl baseUrl;
    private final JobEvents events;
    private final RequestDeadline deadline;
    private final OpenAiSizes sizes;
    private final HttpApi.OpenAi settings;
    private final Clock clock;
    private final JsonBody jsonBodies;
    private final JsonBody formBodies;
    private final long maxEditBytes;

    OpenAiImages(JobLookup lookup, SubmitHandler submit, JobHandlers jobs, Map<String, InputValidator> validators, JobStore store,
            BlobStore blobs, ImageLinks links, BaseUrl baseUrl, JobEvents events, RequestDeadline deadline, OpenAiSizes sizes,
            long maxBodyBytes, HttpApi.OpenAi settings, Clock clock) {
        this.lookup = lookup;
        this.submit = submit;
        this.jobs = jobs;
        this.validators = Map.copyOf(validators);
        this.store = store;
        this.blobs = blobs;
        this.links = links;
        this.baseUrl = baseUrl;
        this.events = events;
        this.deadline = deadline;
        this.sizes = sizes;
        this.settings = settings;
        this.clock = clock;
        this.jsonBodies = new JsonBody(maxBodyBytes, "send images to /v1/images/edits as files.");
        int mostReferences = this.validators.values().stream().mapToInt(v -> v.model().maxReferenceImages()).max().orElse(0);
        this.maxEditBytes = settings.maxEditBytes(maxBodyBytes, mostReferences);
        this.formBodies = new JsonBody(maxEditBytes, "send fewer or smaller images.");
    }

    /** The largest edits body these routes read: the server's own payload limit must let it through. */
    long maxEditBytes() {
        return maxEditBytes;
    }

    /** Whether {@code path} is one of these routes: its errors take OpenAI's shape. */
    static boolean serves(String path) {
        return path != null && PATHS.contains(path);
    }

    /** The OpenAI parameter a violation's location in the queue's submit body stands for. */
    static String param(List<Object> loc) {
        if (loc.size() < 2 || !(loc.get(1) instanceof String field)) {
            return null;
        }
        return switch (field) {
            case "image_urls" -> "image";
            case "num_images" -> "n";
            case "aspect_ratio", "resolution", "image_size" -> "size";
            default -> field;
        };
    }

    /** {@code POST /v1/images/generations}. */
    void generations(ServerRequest req, ServerResponse res) throws InterruptedException {
        ApiKey key = lookup.key(req);
        submit.admit(key);
        JsonNode body = jsonBodies.read(req);
        if (!body.isObject()) {
            throw ErrorMapper.validation(List.of(new Violation(List.of("body"), "Input should be a JSON object", "invalid_type")));
        }
        answer(req, res, key, (ObjectNode) body, List.of(), List.of());
    }

    /** {@code POST /v1/images/edits}. */
    void edits(ServerRequest req, ServerResponse res) throws InterruptedException {
        ApiKey key = lookup.key(req);
        submit.admit(key);
        String contentType = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
        List<Multipart.Part> parts;
        try {
            String boundary = Multipart.boundary(contentType).orElseThrow(() -> ApiError.detail(415,
                    "Content-Type must be multipart/form-data" + (contentType.isEmpty() ? "." : ", not " + shorten(contentType) + ".")));
            parts = Multipart.parse(formBodies.bytes(req), boundary);
        } catch (IllegalArgumentException e) {
            throw ApiError.detail(400, "Malformed multipart body: " + e.getMessage());
        }
        ObjectNode fields = JsonNodeFactory.instance.objectNode();
        List<Multipart.Part> images = new ArrayList<>();
        List<Violation> problems = new ArrayList<>();
        for (Multipart.Part part : parts) {
            switch (part.name()) {
                case "image", "image[]" -> images.add(part);
                case "mask" -> problems.add(Violation.body("mask", "Masks are not supported: describe the edit in the prompt "
                        + "instead.", "unsupported_parameter"));
                default -> {
                    if (part.fileName() == null) {
                        fields.set(part.name(), formValue(part.name(), part.text()));
                    }
                }
            }
        }
        if (images.isEmpty()) {
            problems.add(Violation.body("image", "Field required: at least one image file (image or image[])", "missing"));
        }
        for (int i = 0; i < images.size(); i++) {
            if (images.get(i).bytes().length > settings.maxImageBytes()) {
                String name = images.get(i).fileName() == null ? "" : " (" + shorten(images.get(i).fileName()) + ")";
                problems.add(new Violation(List.of("body", "image_urls", i), "file " + (i + 1) + name + " is larger than "
                        + io.genqueue.image.Units.bytes(settings.maxImageBytes()), "too_large"));
            }
        }
        answer(req, res, key, fields, problems.isEmpty() ? dataUris(images) : List.of(), problems);
    }

    /** A form field as the JSON value a JSON body would have carried. */
    private static JsonNode formValue(String name, String text) {
        if (MULTIPART_NUMBERS.contains(name) && text.strip().matches("-?[0-9]{1,18}")) {
            return JsonNodeFactory.instance.numberNode(Long.parseLong(text.strip()));
        }
        if (MULTIPART_BOOLEANS.contains(name) && (text.strip().equals("true") || text.strip().equals("false"))) {
            return JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(text.strip()));
        }
        return JsonNodeFactory.instance.textNode(text);
    }

    /** Each file as a data URI of the type its bytes have; the validator checks their number, size and content. */
    private static List<String> dataUris(List<Multipart.Part> images) {
        List<String> uris = new ArrayList<>();
        for (Multipart.Part image : images) {
            String type;
            try {
                type = ImageProbe.probe(image.bytes(), Long.MAX_VALUE).contentType();
            } catch (RuntimeException e) { // ImageRejectedException among them: the validator says what is wrong
                type = image.contentType().toLowerCase(java.util.Locale.ROOT).startsWith("image/") ? image.contentType() : "image/png";
            }
            uris.add("data:" + type + ";base64," + Base64.getEncoder().encodeToString(image.bytes()));
        }
        return uris;
    }

    /** Validates, stores, waits and answers; {@code problems} are those found before. */
    private void answer(ServerRequest req, ServerResponse res, ApiKey key, ObjectNode body, List<String> imageUrls,
            List<Violation> problems) throws InterruptedException {
        String model = settings.defaultModel();
        JsonNode named = body.get("model");
        if (named != null && !named.isNull()) {
            if (!named.isTextual() || !lookup.serves(named.textValue())) {
                throw new ApiError(404, ErrorMapper.openAiBody("The model '" + shorten(named.asText()) + "' does not exist; served: "
                        + servedModels() + ".", "invalid_request_error", "model", "model_not_found"), Map.of());
            }
            model = named.textValue();
        }
        List<Violation> violations = new ArrayList<>(problems);
        Options options = options(body, violations);
        ObjectNode submitBody = JsonNodeFactory.instance.objectNode();
        copy(body, "prompt", submitBody, "prompt");
        copy(body, "n", submitBody, "num_images");
        copy(body, "output_format", submitBody, "output_format");
        submitBody.putArray("response_modalities").add("Image");
        options.sizeFields().forEach((name, value) -> submitBody.put(name, value.toString()));
        if (!imageUrls.isEmpty()) {
            imageUrls.forEach(submitBody.putArray("image_urls")::add);
        }
        GenerationInput input = null;
        try {
            input = validators.get(model).validate(submitBody); // the model is a served one, checked above
        } catch (ValidationException e) {
            violations.addAll(e.violations());
        }
        if (!violations.isEmpty()) {
            throw ErrorMapper.validation(violations);
        }
        JobLookup.Caller caller = new JobLookup.Caller(key, model);
        Instant now = clock.instant();
        JobView job = submit.store(caller, submit.newJob(caller, input, now).build(), now);
        Responses.requestId(res, job.id());
        // From here the connection is watched, and the watch ends it when it is closed: every answer,
        // errors too, is written before that (through the one error mapping), and says so.
        res.header(HeaderNames.CONNECTION, "close");
        try (ClientWatch client = ClientWatch.start(deadline.release(), () -> jobs.cancel(job))) {
            try {
                JobView done = await(job, client);
                if (done != null) {
                    Responses.json(res, 200, result(req, done, options.b64()));
                } else {
                    clientGone(req, res);
                }
            } catch (ApiError e) {
                ErrorMapper.handle(req, res, e);
            }
        }
    }

    /**
     * The client left and its job is cancelled: nobody reads an answer, but Helidon wants one sent,
     * so the cancelled answer goes to the closed connection, where writing it may fail.
     */
    private static void clientGone(ServerRequest req, ServerResponse res) {
        try {
            ErrorMapper.handle(req, res, ApiError.detail(499, io.genqueue.queue.Failure.CANCELLED_MESSAGE));
        } catch (RuntimeException e) {
            // the connection is closed: expected
        }
    }

    private String servedModels() {
        return String.join(", ", new java.util.TreeSet<>(lookup.models()));
    }

    /**
     * Waits for {@code job} to end. Returns it ended; null when the client closed its connection
     * (the job is then cancelled). @throws ApiError 504 when the wait timed out (the job is
     * cancelled), 503 when the server is shutting down
     */
    private JobView await(JobView job, ClientWatch client) throws InterruptedException {
        long until = System.nanoTime() + settings.timeout().toNanos();
        try (JobEvents.Watch watch = events.watch(job.id())) {
            JobView now = store.find(job.tenant(), job.id()).orElse(job);
            while (!now.state().isTerminal()) {
                if (client.gone()) {
                    return null;
                }
                if (events.closed()) {
                    throw new ApiError(503, ErrorMapper.openAiBody("The server is shutting down; the request "
                            + job.id() + " continues in the queue.", "server_error", null, null), Map.of("Connection", "close"));
                }
                long left = until - System.nanoTime();
                if (left <= 0) {
                    jobs.cancel(now);
                    throw new ApiError(504, ErrorMapper.openAiBody("The image was not ready within " + settings.timeout().toSeconds()
                            + " s; the request was cancelled.", "server_error", null, "timeout"),
                            Map.of("x-should-retry", "false", "Connection", "close"));
                }
                watch.await(Duration.ofNanos(Math.min(left, RECHECK.toNanos())));
                now = store.find(job.tenant(), job.id()).orElse(now);
            }
            return client.gone() ? null : now;
        }
    }

    /** The body of an ended job: its images, or the failure thrown as {@link JobHandlers#failed} says. */
    private Map<String, Object> result(ServerRequest req, JobView job, boolean b64) {
        if (job.state() != JobState.SUCCEEDED) {
            throw JobHandlers.failed(job.failure());
        }
        JobResult result = store.result(job.id()).orElseThrow(() -> ApiError.detail(410, "The result of this request was deleted."));
        String base = baseUrl.of(req);
        List<Map<String, Object>> data = new ArrayList<>();
        for (StoredImage image : result.images()) {
            data.add(Map.of(b64 ? "b64_json" : "url", b64 ? base64(image) : links.url(base, image.blobKey())));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("created", job.createdAt().getEpochSecond());
        body.put("data", data);
        if (!result.images().isEmpty()) {
            StoredImage first = result.images().get(0);
            body.put("output_format", first.contentType().substring(first.contentType().indexOf('/') + 1));
            body.put("size", first.width() + "x" + first.height());
        }
        return body;
    }

    private String base64(StoredImage image) {
        BlobStore.Blob blob = blobs.open(image.blobKey()).orElseThrow(() -> ApiError.detail(410, "The image was deleted."));
        try (InputStream in = blob.stream()) {
            return Base64.getEncoder().encodeToString(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What OpenAI's own fields ask for: the size's submit fields, and whether images come inline. */
    private record Options(Map<String, Object> sizeFields, boolean b64) {
    }

    private Options options(ObjectNode body, List<Violation> out) {
        Map<String, Object> sizeFields = Map.of();
        JsonNode size = field(body, "size");
        if (size != null) {
            var fields = size.isTextual() ? sizes.fields(size.textValue()) : java.util.Optional.<Map<String, Object>>empty();
            if (fields.isEmpty()) {
                out.add(Violation.body("size", "'" + shorten(size.asText()) + "' is not a supported size; use one of "
                        + String.join(", ", sizes.allowed()), "invalid_value"));
            } else {
                sizeFields = fields.get();
            }
        }
        boolean b64 = true;
        JsonNode format = field(body, "response_format");
        if (format != null) {
            if (format.isTextual() && (format.textValue().equals("url") || format.textValue().equals("b64_json"))) {
                b64 = format.textValue().equals("b64_json");
            } else {
                out.add(Violation.body("response_format", "Input should be 'url' or 'b64_json'", "invalid_value"));
            }
        }
        oneOf(body, "quality", QUALITIES, out);
        oneOf(body, "style", Set.of("vivid", "natural"), out);
        oneOf(body, "moderation", Set.of("auto", "low"), out);
        oneOf(body, "input_fidelity", Set.of("high", "low"), out);
        if (oneOf(body, "background", Set.of("auto", "opaque", "transparent"), out) instanceof String b && b.equals("transparent")) {
            out.add(Violation.body("background", "A transparent background is not supported by this model; use 'auto' or "
                    + "'opaque'", "unsupported_value"));
        }
        integer(body, "output_compression", 0, 100, out);
        JsonNode user = field(body, "user");
        if (user != null && !user.isTextual()) {
            out.add(Violation.body("user", "Input should be a valid string", "invalid_type"));
        }
        JsonNode stream = field(body, "stream");
        if (stream != null && !(stream.isBoolean() && !stream.booleanValue())) {
            out.add(Violation.body("stream", "Streaming is not supported: leave stream unset or false", "unsupported_value"));
        }
        Long partial = integer(body, "partial_images", 0, 3, out);
        if (partial != null && partial > 0) {
            out.add(Violation.body("partial_images", "Partial images need streaming, which is not supported: use 0",
                    "unsupported_value"));
        }
        return new Options(sizeFields, b64);
    }

    /** The field's text when it is one of {@code allowed} (else a violation); null when absent. */
    private static String oneOf(ObjectNode body, String name, Set<String> allowed, List<Violation> out) {
        JsonNode value = field(body, name);
        if (value == null) {
            return null;
        }
        if (value.isTextual() && allowed.contains(value.textValue())) {
            return value.textValue();
        }
        out.add(Violation.body(name, "Input should be one of " + String.join(", ", new java.util.TreeSet<>(allowed)), "invalid_value"));
        return null;
    }

    private static Long integer(ObjectNode body, String name, long min, long max, List<Violation> out) {
        JsonNode value = field(body, name);
        if (value == null) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
            out.add(Violation.body(name, "Input should be an integer from " + min + " to " + max, "invalid_value"));
            return null;
        }
        return value.longValue();
    }

    private static JsonNode field(JsonNode body, String name) {
        JsonNode value = body.get(name);
        return value == null || value.isNull() ? null : value;
    }

    private static void copy(ObjectNode from, String name, ObjectNode to, String as) {
        JsonNode value = field(from, name);
        if (value != null) {
            to.set(as, value);
        }
    }

    private static String shorten(String s) {
        return s.length() <= 100 ? s : s.substring(0, 100) + "...";
    }
}
