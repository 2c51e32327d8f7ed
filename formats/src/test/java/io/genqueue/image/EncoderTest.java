package io.genqueue.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.Color;
import java.awt.image.BufferedImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EncoderTest {

    /** The WebP writer is a bundled dependency: a process where it does not load is broken, not a skip. */
    @ParameterizedTest
    @EnumSource(OutputFormat.class)
    void every_output_format_is_written_and_probes_back_at_its_size(OutputFormat format) throws Exception {
        BufferedImage image = new BufferedImage(48, 32, BufferedImage.TYPE_INT_RGB);
        var g = image.createGraphics();
        g.setColor(Color.ORANGE);
        g.fillRect(0, 0, 24, 32);
        g.dispose();

        byte[] bytes = Encoder.encode(image, format);

        assertThat(Encoder.webpAvailable()).as("the bundled WebP writer loads").isTrue();
        ImageInfo info = ImageProbe.verify(bytes, 1_000_000).info();
        assertThat(info.format().name()).isEqualTo(format.name());
        assertThat(info.width()).isEqualTo(48);
        assertThat(info.height()).isEqualTo(32);
    }
}
