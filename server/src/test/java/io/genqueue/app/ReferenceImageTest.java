package io.genqueue.app;

import static io.genqueue.app.TestServer.responsePath;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reference images through the whole service: an allow-listed local server is fetched and shapes
 * the output; refused addresses end the request as {@code image_fetch_failed} at the image's index.
 */
class ReferenceImageTest {

    static HttpServer images;
    static HttpServer notAllowed;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        images = serve("/wide.png", png(320, 180));
        notAllowed = serve("/x.png", png(10, 10));
        server = TestServer.start(Map.of("GENQUEUE_FETCH_ALLOW", "127.0.0.1:" + images.getAddress().getPort(),
                "GENQUEUE_FETCH_TIMEOUT", "2s"));
    }

    @AfterAll
    static void stop() {
        server.close();
        images.stop(0);
        notAllowed.stop(0);
    }

    @Test
    void an_allow_listed_image_is_fetched_and_its_shape_followed() {
        String url = "http://127.0.0.1:" + images.getAddress().getPort() + "/wide.png";
        String id = server.submitOk("{\"prompt\":\"like this\",\"image_urls\":[\"" + url + "\"]}");
        JsonNode status = server.awaitCompleted(id);
        assertThat(status.has("error")).as(status.toString()).isFalse();
        JsonNode image = server.get(responsePath(id)).json().get("images").get(0);
        assertThat(image.get("width").asInt()).isEqualTo(1344); // 16:9, the reference's shape
        assertThat(image.get("height").asInt()).isEqualTo(768);
    }

    @Test
    void a_loopback_address_that_is_not_allow_listed_is_refused_at_its_index() {
        String ok = "http://127.0.0.1:" + images.getAddress().getPort() + "/wide.png";
        String refused = "http://127.0.0.1:" + notAllowed.getAddress().getPort() + "/x.png";
        String id = server.submitOk("{\"prompt\":\"x\",\"image_urls\":[\"" + ok + "\",\"" + refused + "\"]}");
        JsonNode status = server.awaitCompleted(id);
        assertThat(status.get("error_type").asText()).isEqualTo("image_fetch_failed");
        TestServer.Response r = server.get(responsePath(id));
        assertThat(r.status()).isEqualTo(422);
        JsonNode detail = r.json().get("detail").get(0);
        assertThat(detail.get("loc").toString()).isEqualTo("[\"body\",\"image_urls\",1]");
        assertThat(detail.get("type").asText()).isEqualTo("image_fetch_failed");
        assertThat(detail.get("msg").asText()).contains("non-public");
    }

    @Test
    void the_cloud_metadata_address_is_refused() {
        String id = server.submitOk("{\"prompt\":\"x\",\"image_urls\":[\"http://169.254.169.254/latest/meta-data/\"]}");
        assertThat(server.awaitCompleted(id).get("error_type").asText()).isEqualTo("image_fetch_failed");
        assertThat(server.get(responsePath(id)).status()).isEqualTo(422);
    }

    @Test
    void a_url_that_is_not_an_image_fails_the_request() {
        String url = "http://127.0.0.1:" + images.getAddress().getPort() + "/missing.png";
        String id = server.submitOk("{\"prompt\":\"x\",\"image_urls\":[\"" + url + "\"]}");
        JsonNode status = server.awaitCompleted(id);
        assertThat(status.get("error_type").asText()).isEqualTo("image_fetch_failed");
        assertThat(status.get("error").asText()).contains("404");
    }

    private static HttpServer serve(String path, byte[] body) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/", exchange -> {
            if (exchange.getRequestURI().getPath().equals(path)) {
                exchange.getResponseHeaders().add("Content-Type", "image/png");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            } else {
                exchange.sendResponseHeaders(404, -1);
            }
            exchange.close();
        });
        s.start();
        return s;
    }

    private static byte[] png(int w, int h) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out);
        return out.toByteArray();
    }
}
