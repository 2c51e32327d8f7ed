package io.genqueue.provider.preview;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TextLayoutTest {

    @Test
    void normalizes_to_one_drawable_char_per_code_point() {
        assertThat(BitmapFont.normalize("café naïve Ångström")).isEqualTo("cafe naive Angstrom");
        assertThat(BitmapFont.normalize("a\tb\nc\u00A0d\u3000e")).isEqualTo("a b c d e");
        assertThat(BitmapFont.normalize("“quoted” – dash")).isEqualTo("\"quoted\" - dash");
        assertThat(BitmapFont.normalize("cat 🐱")).isEqualTo("cat " + BitmapFont.UNKNOWN);
        assertThat(BitmapFont.normalize("🐱‍👤")).isEqualTo("" + BitmapFont.UNKNOWN + BitmapFont.UNKNOWN);
        assertThat(BitmapFont.normalize("猫")).isEqualTo("" + BitmapFont.UNKNOWN);
    }

    @Test
    void splits_words_on_runs_of_spaces() {
        assertThat(TextLayout.words("  a  bb   c ")).containsExactly("a", "bb", "c");
        assertThat(TextLayout.words("   ")).isEmpty();
    }

    @Test
    void wraps_greedily_and_breaks_long_words() {
        assertThat(TextLayout.wrap(List.of("aa", "bb", "cc", "dddddddddd"), 5, 10))
                .containsExactly("aa bb", "cc", "ddddd", "ddddd");
    }

    @Test
    void picks_the_largest_scale_that_fits() {
        // at scale 2 a 130 x 38 box holds 11 columns and 2 lines; at 3 and 4, one line
        assertThat(TextLayout.columns(130, 2)).isEqualTo(11);
        assertThat(TextLayout.rows(38, 2)).isEqualTo(2);
        assertThat(TextLayout.rows(38, 3)).isEqualTo(1);
        TextLayout.Block block = TextLayout.fit(List.of("hello", "world", "again"), 130, 38, 4, 1);
        assertThat(block.truncated()).isFalse();
        assertThat(block.scale()).isEqualTo(2);
        assertThat(block.lines()).containsExactly("hello world", "again");
    }

    @Test
    void cuts_text_that_does_not_fit_with_an_ellipsis() {
        TextLayout.Block block = TextLayout.fit(List.of("one", "two", "three", "four", "five", "six"), 59, 18, 2, 1);
        // scale 1: 10 columns, 2 lines
        assertThat(block.truncated()).isTrue();
        assertThat(block.lines()).containsExactly("one two", "three f...");
        assertThat(block.lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(10));
    }

    @Test
    void clips_labels() {
        assertThat(TextLayout.clip("short", 10)).isEqualTo("short");
        assertThat(TextLayout.clip("a much longer label", 10)).isEqualTo("a much...");
        assertThat(TextLayout.clip("abc", 2)).isEqualTo("..");
    }
}
