package io.genqueue.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/** The contract's JSON bodies to and from the records, and error answers to exceptions. */
final class Wire {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Wire() {
    }

    static byte[] write(Object body) {
        try {
            return MAPPER.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write the body: " + e.getMessage(), e);
        }
    }

    /** The body as JSON; a missing node for an empty or non-JSON body (a proxy's HTML page). */
    static JsonNode read(byte[] body) {
        if (body == null || body.length == 0) {
            return MissingNode.getInstance();
        }
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            return MissingNode.getInstance();
        }
    }

    static Submitted submitted(JsonNode n) {
        return new Submitted(text(n, "request_id"), text(n, "status_url"), text(n, "response_url"), text(n, "cancel_url"),
                n.path("queue_position").asInt(0));
    }

    static Status status(JsonNode n) {
        Status.State state = switch (n.path("status").asText("")) {
            case "IN_QUEUE" -> Status.State.IN_QUEUE;
            case "IN_PROGRESS" -> Status.State.IN_PROGRESS;
            case "COMPLETED" -> Status.State.COMPLETED;
            default -> throw new HttpException.ServerError(200, "unexpected status answer: " + clip(n.toString()));
        };
        List<LogLine> logs = new ArrayList<>();
        for (JsonNode line : n.path("logs")) {
            logs.add(new LogLine(line.path("message").asText(""), line.path("level").asText("INFO"), instant(line.path("timestamp").asText(null))));
        }
        JsonNode inference = n.path("metrics").path("inference_time");
        return new Status(state, text(n, "request_id"), n.has("queue_position") ? n.get("queue_position").asInt() : null, logs,
                inference.isNumber() ? inference.asDouble() : null, text(n, "error"), text(n, "error_type"));
    }

    static Result result(String requestId, JsonNode n) {
        List<Image> images = new ArrayList<>();
        for (JsonNode i : n.path("images")) {
            images.add(new Image(text(i, "url"), text(i, "content_type"), text(i, "file_name"), i.path("file_size").asLong(),
                    i.path("width").asInt(), i.path("height").asInt()));
        }
        return new Result(requestId, images, n.path("description").asText(""));
    }

    /** The exception an error answer of a submit, status, stream or cancel stands for. */
    static GenQueueException error(Answer answer) {
        JsonNode body = read(answer.body());
        if (answer.status() == 422) {
            return new InvalidInputException(fieldErrors(body), true);
        }
        return HttpException.of(answer.status(), detail(answer, body), answer.retryAfter());
    }

    /** The exception an error answer of {@code /response} stands for: the request's failure, else as {@link #error}. */
    static GenQueueException resultError(String requestId, Answer answer) {
        JsonNode body = read(answer.body());
        if (answer.status() == 499) {
            return RequestFailedException.of(requestId, ErrorType.CANCELLED.wire(), detail(answer, body), List.of());
        }
        if (answer.status() == 422) {
            List<FieldError> fields = fieldErrors(body);
            String type = fields.isEmpty() ? ErrorType.VALIDATION_ERROR.wire() : fields.get(0).type();
            String message = fields.isEmpty() ? detail(answer, body) : fields.get(0).msg();
            return RequestFailedException.of(requestId, type, message, fields);
        }
        String type = answer.headers().firstValue("X-Fal-Error-Type").orElse(text(body, "error_type"));
        if (answer.status() >= 500 && type != null) {
            return RequestFailedException.of(requestId, type, detail(answer, body), List.of());
        }
        return error(answer);
    }

    private static List<FieldError> fieldErrors(JsonNode body) {
        List<FieldError> out = new ArrayList<>();
        for (JsonNode d : body.path("detail")) {
            List<Object> loc = new ArrayList<>();
            for (JsonNode part : d.path("loc")) {
                loc.add(part.isInt() ? (Object) part.asInt() : part.asText());
            }
            out.add(new FieldError(loc, d.path("msg").asText(""), d.path("type").asText("")));
        }
        return out;
    }

    /** {@code detail} when it is text (the cancel route's {@code status} instead); else the body, clipped. */
    private static String detail(Answer answer, JsonNode body) {
        if (body.path("detail").isTextual()) {
            return body.get("detail").asText();
        }
        if (body.path("status").isTextual()) {
            return body.get("status").asText();
        }
        return clip(new String(answer.body(), StandardCharsets.UTF_8).strip());
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static Instant instant(String text) {
        try {
            return text == null ? null : Instant.parse(text);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static String clip(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
