package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.store.postgres.TestSchemas;
import io.genqueue.testing.Eventually;
import io.genqueue.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The playground ({@code GET /}) in a real headless Chromium against the real server: a person's
 * flows, with the controls found by their accessible names. One browser for the class; two
 * servers: one that runs jobs (SQLite, the preview provider taking two seconds a job, so that the
 * running state is seen), and one with no worker slots on PostgreSQL, whose requests stay queued.
 * Every test ends with no console errors but the HTTP answers it provoked on purpose.
 */
class PlaygroundBrowserTest {

    static TestServer server;
    static TestSchemas schemas;
    static TestServer idle;
    static Browser browser;

    @BeforeAll
    static void start() {
        server = TestServer.start(Map.of("GENQUEUE_PREVIEW_DELAY_MS", "2000"));
        schemas = new TestSchemas();
        idle = TestServer.start(Map.of("GENQUEUE_WORKERS", "0", "GENQUEUE_STORE", schemas.newSchemaUrl()));
        browser = Browser.start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        server.close();
        idle.close();
        schemas.close();
    }

    /** The page of {@code on}, with its key typed in and a prompt. */
    private static void openWith(TestServer on, String key, String prompt) {
        browser.resize(1280, 1000);
        browser.open(on.base + "/");
        Eventually.until(Browser.WAIT, "the model list loaded from /v1/models",
                () -> !new Select(browser.control("Model")).getOptions().isEmpty());
        WebElement apiKey = browser.control("API key");
        apiKey.clear();
        apiKey.sendKeys(key);
        WebElement promptBox = browser.control("Prompt");
        promptBox.clear();
        promptBox.sendKeys(prompt);
    }

    private static String awaitStatus(String what, java.util.function.Predicate<String> until) {
        return browser.awaitText(By.id("status"), Browser.WAIT, until, what);
    }

    private static String shownRequestId() {
        return browser.awaitText(By.id("request-id"), Browser.WAIT, t -> t.startsWith("req_"), "the request id shown");
    }

    @Test
    void a_generated_image_is_shown_at_its_real_size_with_a_download_link_the_model_s_text_and_its_live_status() {
        openWith(server, server.key, "a lighthouse at dusk");
        new Select(browser.control("Aspect ratio")).selectByVisibleText("16:9");
        // by keyboard: from the prompt, Tab through the controls to Generate and press Enter
        browser.control("Prompt").click();
        for (int i = 0; i < 30 && !"Generate".equals(browser.focused().getAccessibleName()); i++) {
            browser.press(Keys.TAB);
        }
        assertThat(browser.focused().getAccessibleName()).isEqualTo("Generate");
        browser.press(Keys.ENTER);

        String id = shownRequestId();
        awaitStatus("the running state with its elapsed time", s -> s.matches("Running: \\d+ s"));
        assertThat(browser.control("Cancel").isDisplayed()).isTrue();
        browser.awaitText(By.id("logs"), Browser.WAIT, t -> t.contains("Attempt 1 started."), "the job's log line while it runs");
        awaitStatus("the completed state", s -> s.startsWith("Completed"));
        WebElement image = Eventually.value(Browser.WAIT, "the generated image loaded",
                () -> browser.driver.findElements(By.cssSelector("#images img")), l -> !l.isEmpty()
                        && ((Number) browser.script("return arguments[0].naturalWidth", l.get(0))).intValue() > 0).get(0);

        JsonNode result = server.get(TestServer.responsePath(id)).json().at("/images/0");
        assertThat(result.get("width").asInt()).isEqualTo(1344);
        assertThat(browser.script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image))
                .isEqualTo(List.of(1344L, 768L));
        assertThat(browser.driver.findElement(By.cssSelector("#images figcaption .size")).getText()).startsWith("1344 × 768 px, image/png");
        WebElement download = browser.control("Download image 1");
        assertThat(download.getDomAttribute("href")).isEqualTo(result.get("url").asText());
        assertThat(download.getDomAttribute("download")).isEqualTo(result.get("file_name").asText());
        assertThat(browser.driver.findElement(By.id("description")).getText()).contains("a lighthouse at dusk");
        assertThat(browser.controls("Cancel"::equals)).as("no Cancel once done").isEmpty();
        // the key travels only in the Authorization header, never in an address (addresses end up in logs)
        List<Browser.Sent> sent = browser.sentRequests();
        assertThat(sent).extracting(Browser.Sent::url).noneMatch(url -> url.contains(server.key));
        Browser.Sent stream = sent.stream().filter(r -> r.url().endsWith("/requests/" + id + "/status/stream?logs=1"))
                .findFirst().orElseThrow(() -> new AssertionError("no status stream among " + sent));
        assertThat(stream.headers().get("Authorization")).isEqualTo("Bearer " + server.key);

        // the whole finished page, for the README (docs/playground.png is a copy)
        browser.resize(1280, ((Number) browser.script(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight")).intValue());
        browser.screenshot(Path.of("target", "playground.png"));
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void the_prompt_counter_counts_code_points_and_resolution_offers_only_what_agrees_with_the_ratio() {
        openWith(server, server.key, "");
        // ChromeDriver types only the Basic Multilingual Plane: the fox goes in as an input event would
        browser.script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                browser.control("Prompt"), "\uD83E\uDD8A fox");

        assertThat(browser.description(browser.control("Prompt"))).startsWith("5 / 2500");
        Select ratio = new Select(browser.control("Aspect ratio"));
        Select resolution = new Select(browser.control("Resolution"));
        assertThat(ratio.getOptions()).hasSize(11);
        assertThat(resolution.getOptions()).hasSize(11); // no ratio: any of the ten, each implying its ratio
        ratio.selectByVisibleText("21:9");
        assertThat(resolution.getOptions()).extracting(WebElement::getText)
                .containsExactly("From the ratio", "1536x672 (21:9)");

        new Select(browser.control("Model")).selectByValue("nano_banana_pro"); // three tiers: each size names its tier
        ratio.selectByVisibleText("21:9");
        assertThat(resolution.getOptions()).extracting(WebElement::getText)
                .containsExactly("From the ratio", "1584x672 (21:9, 1K)", "3168x1344 (21:9, 2K)", "6336x2688 (21:9, 4K)");
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void a_validation_error_is_shown_beside_the_control_its_loc_names_and_the_page_fits_a_phone() throws Exception {
        openWith(server, server.key, "   ");
        browser.resize(390, 844);
        Path png = Files.createTempFile("reference", ".png");
        Files.write(png, TestImages.png(64, 48));
        browser.control("Reference images").sendKeys(png.toString());
        browser.control("Reference image URL").sendKeys("ftp://example.com/a.png");
        browser.control("Add URL").click();
        Eventually.until(Browser.WAIT, "two thumbnails", () -> browser.driver.findElements(By.cssSelector("#ref-list li")).size() == 2);
        assertThat(browser.driver.findElement(By.cssSelector("#ref-list img")).getDomAttribute("src")).startsWith("data:image/png;base64,");
        assertThat(browser.control("Remove reference image 2").isDisplayed()).isTrue();

        browser.control("Generate").click();

        WebElement prompt = browser.control("Prompt");
        Eventually.until(Browser.WAIT, "the prompt's message beside it",
                () -> browser.description(prompt).contains("prompt must not be only white space"));
        assertThat(prompt.getDomAttribute("aria-invalid")).isEqualTo("true");
        assertThat(browser.focused().getAccessibleName()).isEqualTo("Prompt");
        // the file became a data: URI the server accepted: only the second image is refused
        assertThat(browser.description(browser.control("Reference images")))
                .contains("Image 2: URL scheme should be 'http', 'https' or 'data'").doesNotContain("Image 1");
        assertThat(browser.driver.findElement(By.id("request")).isDisplayed()).isFalse();
        assertThat((Boolean) browser.script("return document.documentElement.scrollWidth <= window.innerWidth"))
                .as("no sideways scrolling at phone width").isTrue();

        browser.control("Remove reference image 2").click();
        assertThat(browser.driver.findElements(By.cssSelector("#ref-list li"))).hasSize(1);
        assertThat(browser.consoleErrors(422)).isEmpty();
    }

    @Test
    void a_queued_request_shows_its_position_and_can_be_cancelled() {
        openWith(idle, idle.key, "never runs: no worker slots");

        browser.control("Generate").click();

        String id = shownRequestId();
        awaitStatus("the queue position", s -> s.equals("In queue: next to start"));
        browser.control("Cancel").click();
        awaitStatus("the cancelled state", s -> s.equals("Cancelled"));
        assertThat(browser.driver.findElement(By.id("failure-type")).getText()).isEqualTo("cancelled");
        assertThat(browser.driver.findElement(By.id("failure-error")).getText()).isNotBlank();
        assertThat(browser.controls("Cancel"::equals)).as("no Cancel once done").isEmpty();
        JsonNode status = idle.get(TestServer.statusPath(id)).json();
        assertThat(status.get("status").asText()).isEqualTo("COMPLETED");
        assertThat(status.get("error_type").asText()).isEqualTo("cancelled");
        assertThat(status.get("error").asText()).isEqualTo(browser.driver.findElement(By.id("failure-error")).getText());
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void a_bad_key_is_refused_beside_the_api_key_field_and_the_key_typed_is_kept_for_the_next_visit() {
        openWith(server, "gq_not_a_real_key", "a red bicycle");

        browser.control("Generate").click();

        WebElement key = browser.control("API key");
        Eventually.until(Browser.WAIT, "the 401's message beside the key",
                () -> browser.description(key).contains("Invalid or revoked API key."));
        assertThat(browser.driver.findElement(By.id("request")).isDisplayed()).isFalse();
        assertThat(browser.consoleErrors(401)).isEmpty();

        browser.open(server.base + "/");
        assertThat(browser.control("API key").getDomProperty("value")).isEqualTo("gq_not_a_real_key");
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void a_recent_request_is_listed_after_a_reload_and_reopens_with_its_images() {
        openWith(server, server.key, "a teapot on a shelf");
        browser.control("Text in the answer").click(); // images only: no model text
        browser.control("Generate").click();
        String id = shownRequestId();
        awaitStatus("the completed state", s -> s.startsWith("Completed"));

        browser.open(server.base + "/");
        assertThat(browser.driver.findElement(By.id("request")).isDisplayed()).isFalse();
        List<WebElement> entries = browser.controls(name -> name.contains(id));
        assertThat(entries).hasSize(1);
        assertThat(entries.get(0).getAccessibleName()).contains("a teapot on a shelf");
        entries.get(0).click();

        assertThat(shownRequestId()).isEqualTo(id);
        awaitStatus("the completed state of the reopened request", s -> s.startsWith("Completed"));
        Eventually.until(Browser.WAIT, "its image", () -> !browser.driver.findElements(By.cssSelector("#images img")).isEmpty());
        assertThat(browser.driver.findElement(By.id("description")).isDisplayed()).isFalse();
        assertThat(browser.consoleErrors()).isEmpty();
    }
}
