package io.genqueue.provider.preview;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.image.AspectRatio;
import io.genqueue.image.ImageData;
import io.genqueue.image.ImageFormat;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.OutputFormat;
import io.genqueue.provider.GenerationRequest;
import io.genqueue.provider.GenerationResult;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class PreviewProviderTest {

    private static final String PROMPT = "A tabby cat in a wizard hat reading an old book by candlelight";
    private static final int PURE_RED = 0xFF0000;

    private final PreviewProvider provider = new PreviewProvider();

    @Test
    void names_itself_and_reports_its_formats() {
        assertThat(provider.name()).isEqualTo("preview");
        assertThat(provider.outputFormats()).containsExactlyInAnyOrder(OutputFormat.values()); // WebP's writer is bundled
    }

    @ParameterizedTest
    @EnumSource(AspectRatio.class)
    void renders_at_the_exact_size_of_every_aspect_ratio(AspectRatio ratio) throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, ratio, OutputFormat.PNG, 1, false, 1L, List.of()));

        ImageData image = result.images().getFirst();
        BufferedImage decoded = decode(image.bytes());
        assertThat(decoded.getWidth()).isEqualTo(ratio.width());
        assertThat(decoded.getHeight()).isEqualTo(ratio.height());
        assertThat(image.info()).isEqualTo(new ImageInfo(ImageFormat.PNG, ratio.width(), ratio.height(), image.bytes().length));
    }

    @ParameterizedTest
    @EnumSource(OutputFormat.class)
    void writes_each_format_with_its_magic_bytes(OutputFormat format) throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, AspectRatio.R4_3, format, 1, false, null, List.of()));

        ImageData image = result.images().getFirst();
        byte[] b = image.bytes();
        switch (format) {
            case PNG -> assertThat(b).startsWith(0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n');
            case JPEG -> assertThat(b).startsWith(0xFF, 0xD8, 0xFF);
            case WEBP -> {
                assertThat(new String(b, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("RIFF");
                assertThat(new String(b, 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WEBP");
            }
        }
        assertThat(image.info()).isEqualTo(new ImageInfo(ImageFormat.valueOf(format.name()), 1184, 864, b.length));
        BufferedImage decoded = decode(b);
        assertThat(decoded.getWidth()).isEqualTo(1184);
        assertThat(decoded.getHeight()).isEqualTo(864);
        if (format == OutputFormat.JPEG) {
            assertThat(decoded.getColorModel().hasAlpha()).isFalse();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void makes_the_requested_number_of_distinct_images(int count) throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, AspectRatio.R16_9, OutputFormat.JPEG, count, false, 3L, List.of()));

        assertThat(result.images()).hasSize(count);
        Set<ByteBuffer> distinct = new HashSet<>();
        for (ImageData image : result.images()) {
            distinct.add(ByteBuffer.wrap(image.bytes()));
            BufferedImage decoded = decode(image.bytes());
            assertThat(decoded.getWidth()).isEqualTo(1344);
            assertThat(decoded.getHeight()).isEqualTo(768);
        }
        assertThat(distinct).hasSize(count);
    }

    @ParameterizedTest
    @EnumSource(OutputFormat.class)
    void the_same_request_gives_the_same_bytes(OutputFormat format) throws Exception {
        List<ImageData> refs = List.of(solidPng(32, 24, PURE_RED));
        GenerationRequest first = new GenerationRequest("job-1", PROMPT, refs, AspectRatio.R3_2, format, 2, true, 99L);
        GenerationRequest second = new GenerationRequest("job-2", PROMPT, refs, AspectRatio.R3_2, format, 2, true, 99L);

        GenerationResult a = provider.generate(first);
        GenerationResult b = new PreviewProvider(Duration.ZERO).generate(second);

        for (int i = 0; i < 2; i++) {
            assertThat(b.images().get(i).bytes()).isEqualTo(a.images().get(i).bytes());
        }
        assertThat(b.description()).isEqualTo(a.description());
    }

    @Test
    void a_different_prompt_or_seed_gives_different_bytes() throws Exception {
        byte[] base = onlyImage(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, false, 5L, List.of()));
        byte[] otherPrompt = onlyImage(request(PROMPT + "!", AspectRatio.R1_1, OutputFormat.PNG, 1, false, 5L, List.of()));
        byte[] otherSeed = onlyImage(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, false, 6L, List.of()));
        byte[] noSeed = onlyImage(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, false, null, List.of()));

        assertThat(otherPrompt).isNotEqualTo(base);
        assertThat(otherSeed).isNotEqualTo(base);
        assertThat(noSeed).isNotEqualTo(base).isNotEqualTo(otherSeed);
    }

    /**
     * Pins the rendered pixels (not the encoded bytes, which depend on the JDK's zlib), so that
     * output that changes between runs or JVMs, or by accident, fails here. Change the expected
     * hash only on purpose, after looking at the new image.
     */
    @Test
    void the_pixels_are_stable_across_runs_and_jvms() throws Exception {
        List<ImageData> refs = List.of(solidPng(48, 32, PURE_RED), garbage());
        GenerationResult result = provider.generate(
                request("Golden image: café ☕ at dusk", AspectRatio.R1_1, OutputFormat.PNG, 2, false, 42L, refs));

        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (ImageData image : result.images()) {
            BufferedImage decoded = decode(image.bytes());
            int[] rgb = decoded.getRGB(0, 0, decoded.getWidth(), decoded.getHeight(), null, 0, decoded.getWidth());
            ByteBuffer buf = ByteBuffer.allocate(rgb.length * 4);
            buf.asIntBuffer().put(rgb);
            sha.update(buf);
        }
        assertThat(HexFormat.of().formatHex(sha.digest())).isEqualTo(GOLDEN_PIXELS);
    }

    private static final String GOLDEN_PIXELS = "60e76fe508926c18e750dccf20519517b58b6e0d515ca49cea3fbd11a1250fd1";

    @Test
    void draws_reference_images_as_thumbnails() throws Exception {
        byte[] without = onlyImage(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, false, 8L, List.of()));
        byte[] with = onlyImage(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, false, 8L, List.of(solidPng(64, 64, PURE_RED))));
        byte[] withThree = onlyImage(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, false, 8L,
                List.of(solidPng(64, 64, PURE_RED), solidPng(64, 32, PURE_RED), solidPng(16, 64, PURE_RED))));

        int none = count(decode(without), PURE_RED);
        int one = count(decode(with), PURE_RED);
        int three = count(decode(withThree), PURE_RED);
        assertThat(none).isZero();
        assertThat(one).isGreaterThan(10_000);
        assertThat(three).isGreaterThan(one);
    }

    @Test
    void decodes_jpeg_references() throws Exception {
        BufferedImage red = new BufferedImage(80, 60, BufferedImage.TYPE_INT_RGB);
        fill(red, PURE_RED);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(red, "jpeg", out)).isTrue();
        ImageData jpeg = new ImageData(out.toByteArray(), new ImageInfo(ImageFormat.JPEG, 80, 60, out.size()));

        BufferedImage without = decode(onlyImage(request(PROMPT, AspectRatio.R5_4, OutputFormat.PNG, 1, false, null, List.of())));
        BufferedImage with = decode(onlyImage(request(PROMPT, AspectRatio.R5_4, OutputFormat.PNG, 1, false, null, List.of(jpeg))));

        assertThat(countNearRed(without)).isZero();
        assertThat(countNearRed(with)).isGreaterThan(10_000);
    }

    @Test
    void an_undecodable_reference_becomes_a_placeholder() throws Exception {
        byte[] without = onlyImage(request(PROMPT, AspectRatio.R2_3, OutputFormat.PNG, 1, false, 1L, List.of()));
        GenerationResult result = provider.generate(
                request(PROMPT, AspectRatio.R2_3, OutputFormat.PNG, 1, false, 1L, List.of(garbage(), solidPng(10, 10, PURE_RED))));

        byte[] with = result.images().getFirst().bytes();
        assertThat(with).isNotEqualTo(without);
        BufferedImage decoded = decode(with);
        assertThat(decoded.getWidth()).isEqualTo(832);
        assertThat(decoded.getHeight()).isEqualTo(1248);
        assertThat(count(decoded, PURE_RED)).isGreaterThan(1_000); // the readable one is still drawn
    }

    @Test
    void says_it_is_a_preview_in_the_banner() throws Exception {
        BufferedImage image = decode(onlyImage(request(PROMPT, AspectRatio.R9_16, OutputFormat.PNG, 1, false, null, List.of())));
        BufferedImage banner = image.getSubimage(0, 0, image.getWidth(), image.getHeight() / 10);
        assertThat(count(banner, 0xFFD21F)).isGreaterThan(500);
    }

    @Test
    void describes_itself_as_a_preview_when_text_is_asked_for() throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, true, null, List.of()));

        assertThat(result.description())
                .startsWith("Preview image rendered locally")
                .contains("not a generative model")
                .contains("\"" + PROMPT + "\"");
    }

    @Test
    void has_no_text_when_none_is_asked_for() throws Exception {
        GenerationResult result = provider.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 2, false, null, List.of()));

        assertThat(result.description()).isEmpty();
    }

    @Test
    void shortens_and_flattens_the_quoted_prompt() {
        String longPrompt = "word ".repeat(500);
        String description = PreviewProvider.description(longPrompt, 3);
        assertThat(description).startsWith("3 preview images").endsWith("...\".");
        assertThat(description.length()).isLessThan(400);

        assertThat(PreviewProvider.description("  two\n\nlines\t here ", 1))
                .endsWith("for the prompt: \"two lines here\".");
        assertThat(PreviewProvider.description("", 1)).endsWith("for an empty prompt.");
        String emoji = "🐱".repeat(300);
        assertThat(PreviewProvider.description(emoji, 1)).contains("🐱".repeat(200) + "...");
    }

    static Stream<String> awkwardPrompts() {
        StringBuilder mixed = new StringBuilder();
        while (mixed.length() < 2500) {
            mixed.append("über naïve 東京 🐱‍👤 ");
        }
        return Stream.of(
                "日本語のプロンプト：猫と本",
                "🚀🌕👩‍🚀🧑🏽‍🎨 🏳️‍🌈",
                "x".repeat(2500),
                mixed.substring(0, 2500),
                "word ".repeat(500),
                "   \n\t  lots \u00A0\u2003 of \r\n\r\n   whitespace   \u3000 ",
                "",
                "   ",
                "control \u0000\u0007\u001B chars and a lone surrogate \uD83D",
                "Ελληνικά, кириллица, עברית, العربية");
    }

    @ParameterizedTest
    @MethodSource("awkwardPrompts")
    void renders_awkward_prompts(String prompt) throws Exception {
        GenerationResult result = provider.generate(request(prompt, AspectRatio.R21_9, OutputFormat.PNG, 1, true, null, List.of()));

        BufferedImage decoded = decode(result.images().getFirst().bytes());
        assertThat(decoded.getWidth()).isEqualTo(1536);
        assertThat(decoded.getHeight()).isEqualTo(672);
        assertThat(result.description()).contains("not a generative model");
    }

    @Test
    void an_interrupt_during_the_latency_ends_the_call_at_once() throws Exception {
        PreviewProvider slow = new PreviewProvider(Duration.ofHours(1));
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                slow.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 1, false, null, List.of()));
                outcome.set(new AssertionError("returned normally"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        worker.start();
        worker.interrupt();
        worker.join(TimeUnit.SECONDS.toMillis(10));

        assertThat(worker.isAlive()).isFalse();
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
    }

    @Test
    void an_interrupted_caller_renders_nothing() {
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> provider.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.PNG, 4, false, null, List.of())))
                    .isInstanceOf(InterruptedException.class);
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void waits_for_its_latency() throws Exception {
        PreviewProvider slow = new PreviewProvider(Duration.ofMillis(50));
        long start = System.nanoTime();
        slow.generate(request(PROMPT, AspectRatio.R1_1, OutputFormat.JPEG, 1, false, null, List.of()));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
    }

    @Test
    void rejects_a_negative_latency() {
        assertThatThrownBy(() -> new PreviewProvider(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PreviewProvider(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void concurrent_calls_give_the_same_bytes_as_one() throws Exception {
        GenerationRequest request = request(PROMPT, AspectRatio.R4_5, OutputFormat.PNG, 1, false, 11L,
                List.of(solidPng(20, 20, PURE_RED)));
        byte[] expected = onlyImage(request);

        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<GenerationResult>> futures = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                futures.add(pool.submit(() -> provider.generate(request)));
            }
            for (Future<GenerationResult> f : futures) {
                assertThat(f.get(20, TimeUnit.SECONDS).images().getFirst().bytes()).isEqualTo(expected);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // --- helpers ---

    private byte[] onlyImage(GenerationRequest request) throws InterruptedException {
        GenerationResult result = provider.generate(request);
        assertThat(result.images()).hasSize(1);
        return result.images().getFirst().bytes();
    }

    private static GenerationRequest request(String prompt, AspectRatio ratio, OutputFormat format, int count,
            boolean includeText, Long seed, List<ImageData> refs) {
        return new GenerationRequest("req-test", prompt, refs, ratio, format, count, includeText, seed);
    }

    private static BufferedImage decode(byte[] bytes) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
        assertThat(image).as("decodes").isNotNull();
        return image;
    }

    private static ImageData solidPng(int w, int h, int rgb) throws IOException {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        fill(image, rgb);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(image, "png", out)).isTrue();
        return new ImageData(out.toByteArray(), new ImageInfo(ImageFormat.PNG, w, h, out.size()));
    }

    private static ImageData garbage() {
        byte[] bytes = "this is not an image at all".getBytes(StandardCharsets.US_ASCII);
        return new ImageData(bytes, new ImageInfo(ImageFormat.PNG, 10, 10, bytes.length));
    }

    private static void fill(BufferedImage image, int rgb) {
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                image.setRGB(x, y, rgb);
            }
        }
    }

    private static int count(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }

    private static int countNearRed(BufferedImage image) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int p = image.getRGB(x, y);
                if (((p >> 16) & 0xFF) > 200 && ((p >> 8) & 0xFF) < 40 && (p & 0xFF) < 40) {
                    n++;
                }
            }
        }
        return n;
    }
}
