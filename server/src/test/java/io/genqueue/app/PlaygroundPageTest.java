package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.image.AspectRatio;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The playground's files over HTTP, as a browser with no internet gets them: every one from this
 * server, with its content type, no key needed; and the model table the page offers comes from
 * {@code GET /v1/models}. What the page does with them is {@link PlaygroundBrowserTest}'s.
 */
class PlaygroundPageTest {

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
    void the_page_is_served_without_a_key_and_links_only_files_of_this_server() {
        TestServer.Response page = server.getWithoutKey("/");

        assertThat(page.status()).isEqualTo(200);
        assertThat(page.header("Content-Type")).startsWith("text/html");
        assertThat(page.body()).as("no inline script").doesNotContain("<script>");
        Set<String> linked = new TreeSet<>();
        Matcher m = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(page.body());
        while (m.find()) {
            linked.add(m.group(1));
        }
        assertThat(linked).containsExactlyInAnyOrder("playground/playground.css", "playground/playground.js", "docs", "data:,");
        for (String file : List.of("playground/playground.css", "playground/playground.js")) {
            TestServer.Response r = server.getWithoutKey("/" + file);
            assertThat(r.status()).as(file).isEqualTo(200);
            assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(r.body()).as(file).doesNotContain("http://", "https://", "@import");
        }
        assertThat(server.getWithoutKey("/playground/playground.css").header("Content-Type")).startsWith("text/css");
        assertThat(server.getWithoutKey("/playground/playground.js").header("Content-Type")).startsWith("text/javascript");
    }

    @Test
    void the_page_allows_scripts_and_styles_from_its_own_origin_only() {
        String policy = server.getWithoutKey("/").header("Content-Security-Policy");

        assertThat(policy).contains("default-src 'self'").contains("object-src 'none'").contains("frame-ancestors 'none'");
        assertThat(policy).doesNotContain("unsafe-inline", "unsafe-eval");
    }

    @Test
    void a_file_the_page_does_not_use_is_a_json_404_and_nothing_else_of_the_classpath_is_reachable() {
        TestServer.Response other = server.getWithoutKey("/playground/index.html");
        TestServer.Response outside = server.getWithoutKey("/playground/..%2Fopenapi%2Fopenapi.json");
        TestServer.Response deeper = server.getWithoutKey("/playground/../logback.xml");

        assertThat(other.status()).isEqualTo(404);
        assertThat(other.json().get("detail").asText()).isEqualTo("Not found");
        assertThat(outside.status()).isEqualTo(404);
        assertThat(deeper.status()).isEqualTo(404);
        assertThat(deeper.body()).doesNotContain("<configuration");
    }

    @Test
    void models_list_each_aspect_ratio_with_the_one_resolution_that_agrees_with_it() {
        JsonNode model = server.getWithoutKey("/v1/models").json().at("/models/0");

        assertThat(model.get("id").asText()).isEqualTo("nano_banana");
        List<String> pairs = new ArrayList<>();
        model.get("aspect_ratios").forEach(r -> pairs.add(r.get("aspect_ratio").asText() + "=" + r.get("resolution").asText()));
        assertThat(pairs).containsExactly("1:1=1024x1024", "2:3=832x1248", "3:2=1248x832", "3:4=864x1184", "4:3=1184x864",
                "4:5=896x1152", "5:4=1152x896", "9:16=768x1344", "16:9=1344x768", "21:9=1536x672");
        assertThat(pairs).hasSize(AspectRatio.values().length);
        // what the page offers is what a submit may send: each listed pair together is accepted
        JsonNode last = model.get("aspect_ratios").get(pairs.size() - 1);
        assertThat(server.submit("{\"prompt\":\"a pair from the list\",\"aspect_ratio\":\"" + last.get("aspect_ratio").asText()
                + "\",\"resolution\":\"" + last.get("resolution").asText() + "\"}").status()).isEqualTo(200);
    }
}
