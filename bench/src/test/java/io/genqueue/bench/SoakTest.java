package io.genqueue.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The soak's arithmetic and its outputs: the slopes it reports and the chart the README shows. */
class SoakTest {

    /** Samples every 10 s for {@code minutes}: memory rising 3 MiB a minute, everything else flat. */
    private static List<Soak.Sample> samples(int minutes) {
        List<Soak.Sample> out = new ArrayList<>();
        for (int i = 1; i <= minutes * 6; i++) {
            double m = i / 6.0;
            out.add(new Soak.Sample(m, 1_000, 4.5, 0, (long) ((300 + 3 * m) * 1048576), 120, 40, 0, 16));
        }
        return out;
    }

    @Test
    void the_slope_is_the_least_squares_rise_per_minute() {
        List<Soak.Sample> samples = samples(30);
        assertThat(Soak.Fit.of(samples, s -> s.residentBytes() / 1048576.0).slope()).isCloseTo(3.0, within(1e-6));
        assertThat(Soak.Fit.of(samples, s -> s.residentBytes() / 1048576.0).intercept()).isCloseTo(300.0, within(1e-6));
        assertThat(Soak.Fit.of(samples, Soak.Sample::p99).slope()).isCloseTo(0.0, within(1e-9));
        assertThat(Soak.Fit.of(samples.subList(0, 1), Soak.Sample::p99).slope()).as("one sample: no slope").isZero();
    }

    @Test
    void the_report_has_a_row_per_sample_and_the_slope_of_each_figure() throws Exception {
        List<Soak.Sample> samples = samples(2);
        String report = Soak.report(new Wrk.Result(2_000, 2, 9, 20_000, 0), 5_000, 1_000, 16, 2, samples, Duration.ofSeconds(140),
                Path.of("docs/soak.png"));
        assertThat(report).contains("`bench/run --soak 2`", "| 0.17 | 1,000 | 16 | 4.50 | 0 | 300.5 | 120 | 40 | 0 |",
                "| VmRSS MiB | 300.50 | 306.00 | +3.000 |", "| threads | 40.00 | 40.00 | +0.000 |", "Chart: soak.png");
        assertThat(report.lines().filter(l -> l.matches("\\| [0-9.]+ \\| 1,000 .*"))).hasSize(samples.size());
    }

    @Test
    void the_chart_is_a_png_with_a_drawn_panel_per_figure(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("soak.png");
        SoakChart.write(file, samples(30));
        BufferedImage image = ImageIO.read(file.toFile());
        assertThat(image.getWidth()).isEqualTo(900);
        assertThat(image.getHeight()).isEqualTo(4 * 190);
        for (int panel = 0; panel < 4; panel++) {
            int blue = 0;
            for (int y = panel * 190; y < (panel + 1) * 190; y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    if (image.getRGB(x, y) == (0xFF000000 | 0x1F5FBF)) {
                        blue++;
                    }
                }
            }
            assertThat(blue).as("pixels of the samples' line in panel " + panel).isGreaterThan(100);
        }
        assertThat(Files.size(file)).isPositive();
    }
}
