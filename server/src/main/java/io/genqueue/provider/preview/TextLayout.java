package io.genqueue.provider.preview;

import java.util.ArrayList;
import java.util.List;

/** Word wrapping for {@linkplain BitmapFont#normalize normalized} text on a grid of character cells. */
final class TextLayout {

    static final String ELLIPSIS = "...";

    /** Lines that fit a box, at the scale they were laid out for; {@code truncated} when text was cut. */
    record Block(List<String> lines, int scale, boolean truncated) {
    }

    private TextLayout() {
    }

    /** The words of normalized text (runs of non-spaces). */
    static List<String> words(String normalized) {
        List<String> words = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= normalized.length(); i++) {
            boolean space = i == normalized.length() || normalized.charAt(i) == ' ';
            if (space && start >= 0) {
                words.add(normalized.substring(start, i));
                start = -1;
            } else if (!space && start < 0) {
                start = i;
            }
        }
        return words;
    }

    /**
     * Lays the words out in a box of {@code boxW} x {@code boxH} pixels at the largest scale from
     * {@code maxScale} down to {@code minScale} at which they all fit; if none fits, at
     * {@code minScale}, cut short with an ellipsis.
     */
    static Block fit(List<String> words, int boxW, int boxH, int maxScale, int minScale) {
        for (int scale = maxScale; scale >= minScale; scale--) {
            int cols = columns(boxW, scale);
            int rows = rows(boxH, scale);
            if (cols < 1 || rows < 1) {
                continue;
            }
            List<String> lines = wrap(words, cols, rows + 1);
            if (lines.size() <= rows) {
                return new Block(lines, scale, false);
            }
        }
        int cols = Math.max(1, columns(boxW, minScale));
        int rows = Math.max(1, rows(boxH, minScale));
        List<String> lines = wrap(words, cols, rows + 1);
        if (lines.size() <= rows) {
            return new Block(lines, minScale, false);
        }
        List<String> kept = new ArrayList<>(lines.subList(0, rows));
        kept.set(rows - 1, withEllipsis(kept.get(rows - 1), cols));
        return new Block(kept, minScale, true);
    }

    /** How many characters fit in {@code widthPx} at {@code scale}. */
    static int columns(int widthPx, int scale) {
        return (widthPx / scale + 1) / BitmapFont.ADVANCE;
    }

    /** How many lines fit in {@code heightPx} at {@code scale}. */
    static int rows(int heightPx, int scale) {
        return (heightPx / scale + (BitmapFont.LINE - BitmapFont.GLYPH_H)) / BitmapFont.LINE;
    }

    /** Greedy wrapping; words longer than a line are broken. Stops once {@code maxLines} lines exist. */
    static List<String> wrap(List<String> words, int cols, int maxLines) {
        List<String> lines = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String word : words) {
            if (lines.size() >= maxLines) {
                break;
            }
            String rest = word;
            while (rest.length() > cols) {
                if (!current.isEmpty()) {
                    lines.add(current.toString());
                    current.setLength(0);
                }
                lines.add(rest.substring(0, cols));
                rest = rest.substring(cols);
                if (lines.size() >= maxLines) {
                    return lines;
                }
            }
            if (rest.isEmpty()) {
                continue;
            }
            if (current.isEmpty()) {
                current.append(rest);
            } else if (current.length() + 1 + rest.length() <= cols) {
                current.append(' ').append(rest);
            } else {
                lines.add(current.toString());
                current.setLength(0);
                current.append(rest);
            }
        }
        if (!current.isEmpty() && lines.size() < maxLines) {
            lines.add(current.toString());
        }
        return lines;
    }

    /** {@code text} cut to at most {@code cols} characters, ending with an ellipsis if it was cut. */
    static String clip(String text, int cols) {
        if (text.length() <= cols) {
            return text;
        }
        return withEllipsis(text.substring(0, Math.max(0, cols)), cols);
    }

    private static String withEllipsis(String line, int cols) {
        if (cols <= ELLIPSIS.length()) {
            return ELLIPSIS.substring(0, Math.max(0, cols));
        }
        String base = line.length() + ELLIPSIS.length() > cols ? line.substring(0, cols - ELLIPSIS.length()) : line;
        return base.stripTrailing() + ELLIPSIS;
    }
}
