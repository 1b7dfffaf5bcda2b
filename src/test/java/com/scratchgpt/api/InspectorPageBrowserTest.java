package com.scratchgpt.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.scratchgpt.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * The inspector page in headless Chromium (Debian's {@code chromium} and {@code chromium-driver}; .ci/run installs
 * them), driven by Selenium through /usr/bin/chromedriver: the shared link inspects the book's prompt at once and shows
 * the token /generate produces greedily on top; a head opens as its map, by mouse and by keyboard; the temperature
 * slider redraws the bars with the sampler's probabilities; "Generate one token" appends the token and inspects again;
 * the stream panel reports its rates; and the page fits a phone's width. Saves target/inspector.png, a build output:
 * copied to docs/images for the README when the page changes, never written into the sources by the build.
 * Skipped, and reported as skipped, where Chromium or its driver is absent.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class InspectorPageBrowserTest {

    static final File CHROMEDRIVER = new File("/usr/bin/chromedriver");
    static final Path SCREENSHOT = Path.of("target/inspector.png");
    /** The page writes probabilities with three significant digits: within half a unit of the third, relatively. */
    static final double DISPLAY = 0.005;

    @LocalServerPort
    int port;
    ChromeDriver browser;
    WebDriverWait wait;
    HttpTestClient http;

    @BeforeEach
    void open() throws Exception {
        assumeTrue(SwaggerUiBrowserTest.CHROMIUM.canExecute(), "Chromium is not installed (apt-get install chromium)");
        assumeTrue(CHROMEDRIVER.canExecute(), "chromedriver is not installed (apt-get install chromium-driver)");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(SwaggerUiBrowserTest.CHROMIUM);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createTempDirectory("chromium-profile"), "--window-size=1280,1800");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER)
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        // a panel redrawn between finding a bar and reading it leaves a stale element: read the page again
        wait = new WebDriverWait(browser, Duration.ofSeconds(60));
        wait.ignoring(StaleElementReferenceException.class);
        http = new HttpTestClient(port);
    }

    @AfterEach
    void close() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void theBooksPromptThroughEveryPanel() throws Exception {
        browser.get("http://localhost:" + port + "/?prompt=Hello%2C%20I%20am");
        awaitIdle();

        // the top next token is the one /generate produces greedily
        JsonNode greedy = http.postJson("/generate", "{\"prompt\": \"Hello, I am\", \"maxNewTokens\": 1}").json();
        WebElement top = bars().get(0);
        assertThat(top.getAttribute("data-token")).isEqualTo(greedy.get("generatedTokens").get(0).asString()).isEqualTo("27018");
        assertThat(top.findElement(By.className("bar-label")).getText()).isEqualTo("\u2423Feature");
        assertThat(browser.findElements(By.cssSelector("#tokens .chip"))).extracting(c -> c.getAttribute("data-id"))
                .containsExactly("15496", "11", "314", "716");
        assertThat(browser.findElements(By.cssSelector("#attention-grid .head"))).hasSize(144);
        assertThat(browser.findElements(By.cssSelector("#lens tbody tr"))).hasSize(12);
        assertThat(browser.findElement(By.id("loss-summary")).getText()).contains("perplexity");
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("#params"), "163,009,536"));

        // a head opens as its map; pointing at a query token draws what it attends to
        browser.findElement(By.cssSelector("#attention-grid .head[data-layer='3'][data-head='5']")).click();
        WebElement detail = browser.findElement(By.id("head-detail"));
        wait.until(ExpectedConditions.visibilityOf(detail));
        assertThat(browser.findElement(By.id("head-title")).getText()).isEqualTo("Layer 3, head 5");
        assertThat(detail.findElements(By.cssSelector(".head-map rect:not(.map-row)"))).as("cells of the causal map: 4 + 3 + 2 + 1")
                .hasSize(10);
        List<WebElement> queries = detail.findElements(By.cssSelector(".queries .head-token"));
        new Actions(browser).moveToElement(queries.get(2)).perform();
        assertThat(detail.findElements(By.cssSelector(".head-lines line"))).as("token 2 attends to keys 0..2").hasSize(3);
        assertThat(detail.findElement(By.className("head-readout")).getText()).startsWith("\u201c\u2423I\u201d attends most to");
        saveScreenshot();

        // the keyboard opens a head too
        WebElement other = browser.findElement(By.cssSelector("#attention-grid .head[data-layer='11'][data-head='0']"));
        other.sendKeys(Keys.ENTER);
        wait.until(ExpectedConditions.textToBe(By.id("head-title"), "Layer 11, head 0"));

        // the temperature slider redraws the bars with the sampler's probabilities at that temperature
        List<String> before = shownProbabilities();
        WebElement temperature = browser.findElement(By.id("temperature"));
        for (int i = 0; i < 14; i++) {
            temperature.sendKeys(Keys.ARROW_LEFT); // 1.00 -> 0.30 in steps of 0.05
        }
        assertThat(browser.findElement(By.id("temperature-value")).getText()).isEqualTo("0.30");
        JsonNode expected = http.postJson("/inspect", "{\"promptTokens\": [15496, 11, 314, 716], \"temperature\": 0.3, "
                + "\"attention\": false, \"logitLens\": false}").json().get("next").get("top");
        wait.until(d -> !shownProbabilities().equals(before));
        wait.until(d -> Math.abs(shown(0) - percent(expected.get(0))) <= percent(expected.get(0)) * DISPLAY);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(bars().get(i).getAttribute("data-token")).isEqualTo(expected.get(i).get("token").asString());
            assertThat(shown(i)).as("bar %d shows the sampler's probability at temperature 0.3", i)
                    .isCloseTo(percent(expected.get(i)), within(percent(expected.get(i)) * DISPLAY));
        }

        // at temperature 0 the sampler is greedy; "Generate one token" appends its token and inspects again
        temperature.sendKeys(Keys.HOME);
        wait.until(d -> "100%".equals(bars().get(0).findElement(By.className("sampled")).getText()));
        browser.findElement(By.id("generate-one")).click();
        wait.until(d -> d.findElements(By.cssSelector("#tokens .chip")).size() == 5);
        awaitIdle();
        assertThat(browser.findElements(By.cssSelector("#tokens .chip")).get(4).getAttribute("data-id")).isEqualTo("27018");
        assertThat(browser.findElement(By.id("prompt")).getAttribute("value")).isEqualTo("Hello, I am Feature");
        assertThat(browser.getCurrentUrl()).endsWith("?prompt=Hello%2C%20I%20am%20Feature");
        assertThat(browser.findElements(By.cssSelector("#lens thead th"))).as("corner + 5 positions").hasSize(6);

        // streamed generation, with its time to first token and rate
        WebElement count = browser.findElement(By.id("max-new-tokens"));
        count.clear();
        count.sendKeys("5");
        browser.findElement(By.id("stream-button")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("stream-stats"), "finished (length)"));
        assertThat(browser.findElement(By.id("stream-stats")).getText()).matches("5 tokens; first after \\d+ ms, "
                + "[0-9.]+ tokens/s after it \u2014 finished \\(length\\)");
        assertThat(browser.findElement(By.id("stream-text")).getText()).isEqualTo("iman Byeswickattribute argue");
    }

    @Test
    void thePageFitsAPhonesWidth() {
        browser.manage().window().setSize(new Dimension(390, 844));
        browser.get("http://localhost:" + port + "/?prompt=Hello%2C%20I%20am");
        awaitIdle();
        long overflow = (Long) ((JavascriptExecutor) browser).executeScript(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
        assertThat(overflow).as("no sideways scrolling of the page itself").isLessThanOrEqualTo(0L);
        assertThat(bars()).hasSize(10);
    }

    private void awaitIdle() {
        wait.until(d -> "false".equals(d.findElement(By.tagName("body")).getAttribute("data-busy"))
                && !d.findElements(By.cssSelector("#next-chart .bar-row")).isEmpty());
        assertThat(browser.findElement(By.id("error")).isDisplayed()).as(browser.findElement(By.id("error")).getText()).isFalse();
    }

    private List<WebElement> bars() {
        return browser.findElements(By.cssSelector("#next-chart .bar-row"));
    }

    private List<String> shownProbabilities() {
        return bars().stream().map(b -> b.findElement(By.className("sampled")).getText()).toList();
    }

    /** The sampler's probability bar i shows, in percent. */
    private double shown(int i) {
        return Double.parseDouble(bars().get(i).findElement(By.className("sampled")).getText().replace("%", ""));
    }

    /** A next token's sampledProb in percent. */
    private static double percent(JsonNode token) {
        return token.get("sampledProb").asDouble() * 100;
    }

    /** The whole page, for the README. */
    private void saveScreenshot() throws Exception {
        long height = (Long) ((JavascriptExecutor) browser).executeScript(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;");
        browser.manage().window().setSize(new Dimension(1280, (int) height));
        ((JavascriptExecutor) browser).executeScript("window.scrollTo(0, 0);");
        Files.createDirectories(SCREENSHOT.getParent());
        Files.write(SCREENSHOT, browser.getScreenshotAs(OutputType.BYTES));
        browser.manage().window().setSize(new Dimension(1280, 1800));
    }
}
