package io.genqueue.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * Draws the soak's samples as a PNG (Java2D and ImageIO, no chart library): one panel per figure
 * (resident memory, p99 latency, open files, threads) against minutes, each with its
 * least-squares line and slope, on a scale from zero so that a flat line looks flat.
 */
final class SoakChart {

    private static final int WIDTH = 900;
    private static final int PANEL = 190;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 28;
    private static final int BOTTOM = 30;

    private record Panel(String title, String unit, ToDoubleFunction<Soak.Sample> value) {
    }

    private static final List<Panel> PANELS = List.of(
            new Panel("resident memory (VmRSS)", "MiB", s -> s.residentBytes() / 1048576.0),
            new Panel("p99 latency of each 10 s window", "ms", Soak.Sample::p99),
            new Panel("open files (/proc/PID/fd)", "", s -> s.openFiles()),
            new Panel("threads", "", s -> s.threads()));

    private SoakChart() {
    }

    static void write(Path file, List<Soak.Sample> samples) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(WIDTH, PANEL * PANELS.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            double maxX = samples.stream().mapToDouble(Soak.Sample::minutes).max().orElse(1);
            for (int i = 0; i < PANELS.size(); i++) {
                draw(g, PANELS.get(i), samples, i * PANEL, Math.max(maxX, 1e-9));
            }
        } finally {
            g.dispose();
        }
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        ImageIO.write(image, "png", file.toFile());
    }

    private static void draw(Graphics2D g, Panel panel, List<Soak.Sample> samples, int top, double maxX) {
        int x0 = LEFT;
        int x1 = WIDTH - RIGHT;
        int y0 = top + PANEL - BOTTOM;
        int y1 = top + TOP;
        double maxY = samples.stream().mapToDouble(panel.value()).max().orElse(1);
        maxY = niceCeiling(Math.max(maxY * 1.1, 1e-9));
        Soak.Fit fit = Soak.Fit.of(samples, panel.value());

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        String unit = panel.unit().isEmpty() ? "" : " " + panel.unit();
        g.drawString(String.format(Locale.ROOT, "%s: slope %+.3f%s per minute", panel.title(), fit.slope(), unit), x0, top + 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        // axes and grid: 4 steps up, whole minutes across
        for (int k = 0; k <= 4; k++) {
            int y = y0 - (y0 - y1) * k / 4;
            g.setColor(new Color(0xE4E4E4));
            g.drawLine(x0, y, x1, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(label(maxY * k / 4), 8, y + 4);
        }
        int step = Math.max(1, (int) Math.ceil(maxX / 10));
        for (int m = 0; m <= maxX; m += step) {
            int x = x(m, maxX, x0, x1);
            g.setColor(Color.DARK_GRAY);
            g.drawLine(x, y0, x, y0 + 4);
            g.drawString(m + (m == 0 ? " min" : ""), x - 4, y0 + 16);
        }
        g.setColor(Color.GRAY);
        g.drawLine(x0, y0, x1, y0);
        g.drawLine(x0, y0, x0, y1);
        // the samples
        Path2D line = new Path2D.Double();
        for (int i = 0; i < samples.size(); i++) {
            Soak.Sample s = samples.get(i);
            double px = x(s.minutes(), maxX, x0, x1);
            double py = y(panel.value().applyAsDouble(s), maxY, y0, y1);
            if (i == 0) {
                line.moveTo(px, py);
            } else {
                line.lineTo(px, py);
            }
        }
        g.setColor(new Color(0x1F5FBF));
        g.setStroke(new BasicStroke(2f));
        g.draw(line);
        // the least-squares line
        if (samples.size() > 1) {
            g.setColor(new Color(0xD04020));
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            double first = samples.get(0).minutes();
            double last = samples.get(samples.size() - 1).minutes();
            g.drawLine(x(first, maxX, x0, x1), (int) y(fit.intercept() + fit.slope() * first, maxY, y0, y1),
                    x(last, maxX, x0, x1), (int) y(fit.intercept() + fit.slope() * last, maxY, y0, y1));
        }
        g.setStroke(new BasicStroke(1f));
    }

    private static int x(double minutes, double maxX, int x0, int x1) {
        return (int) Math.round(x0 + (x1 - x0) * minutes / maxX);
    }

    private static double y(double value, double maxY, int y0, int y1) {
        return y0 - (y0 - y1) * value / maxY;
    }

    /** The smallest of 1, 2, 2.5, 5 x a power of ten at or above {@code v}. */
    static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String label(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
