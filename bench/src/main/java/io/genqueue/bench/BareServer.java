package io.genqueue.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The baseline: a bare Helidon server on the same stack as genqueue, doing what any JSON endpoint
 * must (parse the request, build and write a response) and nothing more. {@code GET /ping} answers
 * {@code {"status":"ok"}}; {@code POST /echo} parses a ~300-byte JSON body with Jackson and answers
 * 201 with a ~250-byte JSON body. genqueue's figures are given as ratios to this server's, measured
 * in the same run, because the machines are shared and noisy.
 */
public final class BareServer {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        byte[] pong = "{\"status\":\"ok\"}".getBytes();
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(port)
                .routing(r -> r
                        .get("/ping", (req, res) -> {
                            res.header(HeaderNames.CONTENT_TYPE, "application/json");
                            res.send(pong);
                        })
                        .post("/echo", (req, res) -> {
                            JsonNode body = MAPPER.readTree(req.content().as(byte[].class));
                            Map<String, Object> out = new LinkedHashMap<>();
                            out.put("id", UUID.randomUUID().toString());
                            out.put("model", body.path("model").asText("nano_banana"));
                            out.put("client", body.path("client_id").asText("bench"));
                            out.put("received_at", Instant.now().toString());
                            out.put("status", "IN_QUEUE");
                            out.put("padding", "x".repeat(96));
                            res.status(201);
                            res.header(HeaderNames.CONTENT_TYPE, "application/json");
                            res.send(MAPPER.writeValueAsBytes(out));
                        }))
                .build()
                .start();
        System.out.println("bare server listening on " + server.port());
    }

    private BareServer() {
    }
}
