package io.genqueue.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.genqueue.testing.TestImages;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImageProbeTest {

    private static final long MAX_PIXELS = 40_000_000;

    @Test
    void reads_png_jpeg_and_gif_from_their_bytes() {
        assertThat(ImageProbe.probe(TestImages.png(40, 30), MAX_PIXELS))
                .extracting(ImageInfo::format, ImageInfo::width, ImageInfo::height)
                .containsExactly(ImageFormat.PNG, 40, 30);
        assertThat(ImageProbe.probe(TestImages.jpeg(17, 9), MAX_PIXELS))
                .extracting(ImageInfo::format, ImageInfo::width, ImageInfo::height)
                .containsExactly(ImageFormat.JPEG, 17, 9);
        assertThat(ImageProbe.probe(TestImages.gif(5, 6), MAX_PIXELS))
                .extracting(ImageInfo::format, ImageInfo::width, ImageInfo::height)
                .containsExactly(ImageFormat.GIF, 5, 6);
    }

    @ParameterizedTest
    @ValueSource(strings = {TestImages.WEBP_LOSSY, TestImages.WEBP_LOSSLESS, TestImages.WEBP_ALPHA, TestImages.WEBP_ANIMATED})
    void decodes_webp_with_the_twelve_monkeys_reader(String base64) {
        byte[] webp = TestImages.webp(base64);

        ImageData data = ImageProbe.verify(webp, MAX_PIXELS);
        BufferedImage image = ImageProbe.decode(webp, MAX_PIXELS);

        assertThat(data.info()).isEqualTo(new ImageInfo(ImageFormat.WEBP, 1, 1, webp.length));
        assertThat(data.bytes()).isSameAs(webp);
        assertThat(image.getWidth()).isEqualTo(1);
        assertThat(image.getHeight()).isEqualTo(1);
    }

    @Test
    void decodes_the_whole_image() {
        BufferedImage image = ImageProbe.decode(TestImages.png(40, 30), MAX_PIXELS);

        assertThat(image.getWidth()).isEqualTo(40);
        assertThat(image.getHeight()).isEqualTo(30);
    }

    @Test
    void verify_returns_the_bytes_with_their_info() {
        byte[] jpeg = TestImages.jpeg(8, 8);

        ImageData data = ImageProbe.verify(jpeg, MAX_PIXELS);

        assertThat(data.bytes()).isSameAs(jpeg);
        assertThat(data.info()).isEqualTo(new ImageInfo(ImageFormat.JPEG, 8, 8, jpeg.length));
        assertThat(data.info().contentType()).isEqualTo("image/jpeg");
    }

    @Test
    void pixel_limit_is_inclusive() {
        byte[] png = TestImages.png(40, 30);

        assertThat(ImageProbe.verify(png, 1200).info().width()).isEqualTo(40);
        assertThatThrownBy(() -> ImageProbe.verify(png, 1199))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is 40x30 pixels, more than the limit of 1199 pixels");
    }

    @Test
    void refuses_a_decompression_bomb_from_its_header_alone() {
        byte[] bomb = TestImages.pngWithHeader(100_000, 100_000);
        assertThat(bomb.length).isLessThan(200);

        // 10^10 pixels would need far more than the test JVM's heap: only the header is read.
        assertThatThrownBy(() -> ImageProbe.decode(bomb, MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is 100000x100000 pixels, more than the limit of 40000000 pixels");
        assertThatThrownBy(() -> ImageProbe.probe(bomb, MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessageContaining("100000x100000");
    }

    @Test
    void refuses_zero_and_negative_sizes() {
        assertThatThrownBy(() -> ImageProbe.verify(TestImages.pngWithHeader(0, 10), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessageStartingWith("image ");
        assertThatThrownBy(() -> ImageProbe.verify(TestImages.pngWithHeader(10, -5), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessageStartingWith("image ");
    }

    @Test
    void refuses_truncated_images() {
        byte[] png = TestImages.png(64, 64);
        byte[] jpeg = TestImages.jpeg(64, 64);
        byte[] gif = TestImages.gif(64, 64);

        assertThatThrownBy(() -> ImageProbe.verify(Arrays.copyOf(png, png.length / 2), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is a truncated or corrupt PNG");
        assertThatThrownBy(() -> ImageProbe.verify(Arrays.copyOf(jpeg, jpeg.length / 2), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is a truncated or corrupt JPEG");
        assertThatThrownBy(() -> ImageProbe.verify(Arrays.copyOf(gif, gif.length / 2), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is a truncated or corrupt GIF");
        assertThatThrownBy(() -> ImageProbe.probe(Arrays.copyOf(png, 20), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is a truncated or corrupt PNG");
    }

    @Test
    void refuses_things_that_are_not_images() {
        assertThatThrownBy(() -> ImageProbe.verify(TestImages.HTML, MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is not a PNG, JPEG, WebP or GIF image (it looks like an HTML, XML or SVG page)");
        assertThatThrownBy(() -> ImageProbe.verify("\n  <svg xmlns='http://www.w3.org/2000/svg'/>".getBytes(StandardCharsets.UTF_8), MAX_PIXELS))
                .hasMessageContaining("SVG");
        assertThatThrownBy(() -> ImageProbe.verify(randomBytes(1000, 7), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is not a PNG, JPEG, WebP or GIF image");
        assertThatThrownBy(() -> ImageProbe.verify(new byte[0], MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is empty");
        assertThatThrownBy(() -> ImageProbe.verify("GIF89a".getBytes(StandardCharsets.US_ASCII), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is a truncated or corrupt GIF");
        assertThatThrownBy(() -> ImageProbe.verify("RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.US_ASCII), MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is a truncated or corrupt WebP");
    }

    @Test
    void ignores_the_file_extension_story_and_trusts_only_magic_bytes() {
        // A GIF with a PNG-looking name and type elsewhere is still a GIF.
        assertThat(ImageProbe.probe(TestImages.gif(3, 3), MAX_PIXELS).format()).isEqualTo(ImageFormat.GIF);
    }

    /**
     * A one-byte-damaged 1x1 lossless WebP on which TwelveMonkeys' decoder, reading a plain
     * stream, keeps reading past the end for good (its bit reader swallows EOFException). Found
     * by the damaged-images test below; {@link ImageBytesInput} ends it.
     */
    @Test
    void stops_a_decoder_that_runs_away_on_damaged_webp() {
        byte[] runaway = HexFormat.of().parseHex("524946461a000000574542505650384c0de300002f0000001007101111a9888e0700");

        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThatThrownBy(() -> ImageProbe.verify(runaway, MAX_PIXELS))
                .isInstanceOf(ImageRejectedException.class)
                .hasMessage("image is a truncated or corrupt WebP")
                .hasCauseInstanceOf(ImageBytesInput.DecodingRunaway.class));
    }

    /**
     * Hostile input of every kind: decoders must only ever end in ImageRejectedException. Each
     * format's bytes are truncated at many points and have random bytes overwritten.
     */
    @Test
    void damaged_images_only_ever_fail_with_image_rejected_exception() {
        byte[][] samples = {
            TestImages.png(16, 16), TestImages.jpeg(16, 16), TestImages.gif(16, 16),
            TestImages.webp(TestImages.WEBP_LOSSY), TestImages.webp(TestImages.WEBP_LOSSLESS),
            TestImages.webp(TestImages.WEBP_ALPHA), TestImages.webp(TestImages.WEBP_ANIMATED),
        };
        Random random = new Random(42);
        for (byte[] sample : samples) {
            for (int length = 0; length < sample.length; length += Math.max(1, sample.length / 40)) {
                verifyOrReject(Arrays.copyOf(sample, length));
            }
            for (int round = 0; round < 150; round++) {
                byte[] damaged = sample.clone();
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                    damaged[random.nextInt(damaged.length)] = (byte) random.nextInt(256);
                }
                verifyOrReject(damaged);
            }
        }
    }

    private static void verifyOrReject(byte[] bytes) {
        try {
            ImageProbe.verify(bytes, MAX_PIXELS);
        } catch (ImageRejectedException e) {
            assertThat(e.getMessage()).startsWith("image ");
        }
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void untrusted_webp_goes_to_the_pure_java_decoder_even_with_the_native_one_registered() {
        javax.imageio.ImageReader reader = ImageProbe.readerFor(ImageFormat.WEBP);
        try {
            assertThat(reader.getClass().getName()).doesNotStartWith(ImageProbe.NATIVE_WEBP_PACKAGE);
        } finally {
            reader.dispose();
        }
    }
}
