package io.genqueue.app;

import com.fasterxml.jackson.databind.JsonNode;
import io.genqueue.json.Json;
import io.genqueue.testing.Eventually;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.regex.Pattern;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * A real, headless Chromium driven by Selenium through Debian's {@code chromium} and
 * {@code chromium-driver} (both named by path, so Selenium Manager never goes to the network).
 * A missing browser fails the test with what to install: browser tests never skip.
 *
 * <p>Controls are found as a person with a screen reader finds them: by the accessible name the
 * browser computes (labels, {@code aria-label}), not by ids.
 */
final class Browser implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Duration WAIT = Duration.ofSeconds(30);
    /** What a person uses: labelled controls, buttons and links. */
    private static final By CONTROLS = By.cssSelector("input, select, textarea, button, a[href]");
    /** Chromium logs each HTTP error answer a page's fetch() got; which statuses a test expects is up to it. */
    private static final Pattern FAILED_LOAD = Pattern.compile(".* Failed to load resource: the server responded with a status of (\\d{3}).*");

    final ChromeDriver driver;

    private Browser(ChromeDriver driver) {
        this.driver = driver;
    }

    /** A desktop-sized window ({@link #resize} for a phone's). */
    static Browser start() {
        for (Path binary : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(binary)) {
                throw new AssertionError(binary + " is missing: the playground's browser tests need Debian's chromium and "
                        + "chromium-driver (apt-get install -y chromium chromium-driver; .ci/run installs them)");
            }
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--no-first-run", "--disable-extensions");
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, Level.ALL.getName(),
                LogType.PERFORMANCE, Level.ALL.getName()));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        return new Browser(new ChromeDriver(service, options));
    }

    void open(String url) {
        driver.get(url);
        Eventually.until(WAIT, "the page at " + url + " to finish loading",
                () -> "complete".equals(script("return document.readyState")));
    }

    void resize(int width, int height) {
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** The one control whose accessible name is {@code name}. */
    WebElement control(String name) {
        List<WebElement> found = controls(name::equals);
        if (found.size() != 1) {
            throw new AssertionError("expected one control named '" + name + "', found " + found.size() + " among "
                    + names());
        }
        return found.get(0);
    }

    /** The controls whose accessible name passes {@code test}, in document order. */
    List<WebElement> controls(java.util.function.Predicate<String> test) {
        return driver.findElements(CONTROLS).stream().filter(e -> test.test(e.getAccessibleName())).toList();
    }

    private List<String> names() {
        return driver.findElements(CONTROLS).stream().map(WebElement::getAccessibleName).toList();
    }

    /** The text of the elements {@code aria-describedby} names: what is shown beside the control for assistive technology too. */
    String description(WebElement control) {
        String ids = control.getDomAttribute("aria-describedby");
        if (ids == null) {
            return "";
        }
        List<String> texts = new ArrayList<>();
        for (String id : ids.trim().split("\\s+")) {
            texts.add(driver.findElement(By.id(id)).getText());
        }
        return String.join(" ", texts).strip();
    }

    /** The element that has the keyboard focus now. */
    WebElement focused() {
        return driver.switchTo().activeElement();
    }

    /** A key pressed wherever the focus is, as on a keyboard. */
    void press(CharSequence key) {
        new Actions(driver).sendKeys(key).perform();
    }

    Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    /** Waits until {@code what} is shown in the element of {@code id}; returns the text. */
    String awaitText(By where, Duration atMost, java.util.function.Predicate<String> until, String what) {
        return Eventually.value(atMost, what, () -> {
            List<WebElement> found = driver.findElements(where);
            return found.isEmpty() || !found.get(0).isDisplayed() ? "" : found.get(0).getText();
        }, until);
    }

    /**
     * The browser's console errors since the last call: script errors, failed loads, and HTTP error
     * answers other than those of {@code expectedStatuses} (the answers a test provokes on purpose).
     */
    List<String> consoleErrors(int... expectedStatuses) {
        List<String> errors = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
            if (entry.getLevel().intValue() < Level.SEVERE.intValue()) {
                continue;
            }
            var failed = FAILED_LOAD.matcher(entry.getMessage());
            if (failed.matches() && Arrays.stream(expectedStatuses).anyMatch(s -> s == Integer.parseInt(failed.group(1)))) {
                continue;
            }
            errors.add(entry.getMessage());
        }
        return errors;
    }

    /** A request the page sent, as the browser's network log saw it. */
    record Sent(String method, String url, Map<String, String> headers) {
    }

    /** The requests the browser sent since the last call (its DevTools network log). */
    List<Sent> sentRequests() {
        List<Sent> sent = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.PERFORMANCE)) {
            try {
                JsonNode message = Json.mapper().readTree(entry.getMessage()).get("message");
                if ("Network.requestWillBeSent".equals(message.path("method").asText())) {
                    JsonNode request = message.at("/params/request");
                    Map<String, String> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                    request.path("headers").properties().forEach(h -> headers.put(h.getKey(), h.getValue().asText()));
                    sent.add(new Sent(request.path("method").asText(), request.path("url").asText(), headers));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return sent;
    }

    /** A PNG of the viewport, written to {@code file}. */
    void screenshot(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
