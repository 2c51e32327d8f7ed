package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.limit.FreeDiskGate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

    @TempDir
    Path dir;

    @Test
    void defaults_are_sane() {
        Settings s = Settings.load(Map.of(), null, Map.of());
        assertThat(s.port()).isEqualTo(8080);
        assertThat(s.dataDir()).isEqualTo(Path.of("./data"));
        assertThat(s.models()).containsExactlyInAnyOrder("nano_banana", "nano_banana_pro"); // the whole built-in catalog
        assertThat(s.retention()).isEqualTo(Duration.ofDays(7));
        assertThat(s.maxBodyBytes()).isEqualTo(1 << 20);
        assertThat(s.fetchMaxBytes()).isEqualTo(7 << 20);
        assertThat(s.publicUrl()).isNull();
        assertThat(s.fetchAllow()).isEmpty();
    }

    @Test
    void flags_win_over_environment_which_wins_over_the_file() throws Exception {
        Path file = dir.resolve("genqueue.conf");
        Files.writeString(file, "# comment\nGENQUEUE_PORT=1111\nGENQUEUE_WORKERS=7\nGENQUEUE_RETENTION=2d\n", StandardCharsets.UTF_8);
        Settings s = Settings.load(Map.of(Setting.PORT, "3333"), file,
                Map.of("GENQUEUE_PORT", "2222", "GENQUEUE_WORKERS", "9", "GENQUEUE_FETCH_ALLOW", "127.0.0.1:9000, LocalHost:80"));
        assertThat(s.port()).isEqualTo(3333);
        assertThat(s.workers()).isEqualTo(9);
        assertThat(s.retention()).isEqualTo(Duration.ofDays(2));
        assertThat(s.fetchAllow()).isEqualTo(Set.of("127.0.0.1:9000", "localhost:80"));
    }

    @Test
    void the_config_file_can_come_from_the_environment() throws Exception {
        Path file = dir.resolve("env.conf");
        Files.writeString(file, "GENQUEUE_PREVIEW_DELAY_MS=250\n", StandardCharsets.UTF_8);
        Settings s = Settings.load(Map.of(), null, Map.of("GENQUEUE_CONFIG", file.toString()));
        assertThat(s.previewDelay()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void every_bad_value_is_reported_by_name_at_once() throws Exception {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "GENQUEUE_PORTT=1\nGENQUEUE_LEASE=fast\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Settings.load(Map.of(Setting.PORT, "99999"), file, Map.of(
                "GENQUEUE_WORKERS", "-1", "GENQUEUE_PUBLIC_URL", "ftp://x", "GENQUEUE_FETCH_ALLOW", "nohostport",
                "GENQUEUE_MODELS", "Bad Model", "GENQUEUE_LINK_SECRET", "short", "GENQUEUE_LOG_LEVEL", "loud")))
                .isInstanceOf(Settings.InvalidSettings.class)
                .hasMessageContaining("flag for GENQUEUE_PORT: 99999 is not between 0 and 65535")
                .hasMessageContaining("GENQUEUE_WORKERS: -1 is not between 0 and 10000")
                .hasMessageContaining("GENQUEUE_LEASE (in the config file): 'fast' is not a duration")
                .hasMessageContaining("GENQUEUE_PORTT (in the config file): not a setting")
                .hasMessageContaining("GENQUEUE_PUBLIC_URL")
                .hasMessageContaining("GENQUEUE_FETCH_ALLOW: 'nohostport' is not host:port")
                .hasMessageContaining("GENQUEUE_MODELS")
                .hasMessageContaining("GENQUEUE_LINK_SECRET: must be at least 32 characters")
                .hasMessageContaining("GENQUEUE_LOG_LEVEL");
    }

    @Test
    void providers_default_to_those_with_a_key_in_order_and_to_the_preview_without_any() {
        assertThat(Settings.load(Map.of(), null, Map.of()).upstreams().effectiveOrder()).containsExactly("preview");
        Upstreams both = Settings.load(Map.of(), null, Map.of("FAL_KEY", "fal-secret", "GEMINI_API_KEY", "g-secret")).upstreams();
        assertThat(both.effectiveOrder()).containsExactly("gemini", "fal");
        assertThat(both.toString()).doesNotContain("secret");
        assertThat(Settings.load(Map.of(), null, Map.of("GENQUEUE_PROVIDERS", "fal, preview", "FAL_KEY", "k")).upstreams()
                .effectiveOrder()).containsExactly("fal", "preview");
    }

    @Test
    void a_listed_provider_without_a_key_or_an_unknown_one_is_refused_by_name() {
        assertThatThrownBy(() -> Settings.load(Map.of(), null, Map.of("GENQUEUE_PROVIDERS", "gemini")))
                .hasMessageContaining("GENQUEUE_PROVIDERS: lists gemini but GEMINI_API_KEY is not set");
        assertThatThrownBy(() -> Settings.load(Map.of(), null, Map.of("GENQUEUE_PROVIDERS", "dalle",
                "GENQUEUE_GEMINI_BASE_URL", "ftp://x")))
                .hasMessageContaining("GENQUEUE_PROVIDERS: 'dalle' is not a provider")
                .hasMessageContaining("GENQUEUE_GEMINI_BASE_URL: 'ftp://x' is not an http(s) URL");
    }

    @Test
    void a_missing_config_file_is_an_error() {
        assertThatThrownBy(() -> Settings.load(Map.of(), dir.resolve("nope.conf"), Map.of()))
                .hasMessageContaining("does not exist");
    }

    @Test
    void retry_max_may_not_be_below_retry_base() {
        assertThatThrownBy(() -> Settings.load(Map.of(), null, Map.of("GENQUEUE_RETRY_BASE", "10s", "GENQUEUE_RETRY_MAX", "1s")))
                .hasMessageContaining("GENQUEUE_RETRY_MAX");
    }

    @Test
    void the_free_disk_watermark_is_a_size_or_a_share_of_the_disk() {
        assertThat(Settings.load(Map.of(), null, Map.of()).minFreeDisk()).isEqualTo(new FreeDiskGate.Watermark(256L << 20, 0));
        assertThat(Settings.load(Map.of(), null, Map.of("GENQUEUE_MIN_FREE_DISK", "512MB")).minFreeDisk().bytesOn(1L << 40))
                .isEqualTo(512L << 20);
        assertThat(Settings.load(Map.of(), null, Map.of("GENQUEUE_MIN_FREE_DISK", "1.5gb")).minFreeDisk().bytes())
                .isEqualTo(3L << 29);
        FreeDiskGate.Watermark share = Settings.load(Map.of(), null, Map.of("GENQUEUE_MIN_FREE_DISK", "5%")).minFreeDisk();
        assertThat(share.bytesOn(1000)).isEqualTo(50);
        assertThat(share).hasToString("5%");
        assertThat(Settings.load(Map.of(), null, Map.of("GENQUEUE_MIN_FREE_DISK", "0")).minFreeDisk().off()).isTrue();
        for (String bad : new String[] {"lots", "100%", "-1MB", "5 parsecs"}) {
            assertThatThrownBy(() -> Settings.load(Map.of(), null, Map.of("GENQUEUE_MIN_FREE_DISK", bad)))
                    .as(bad).hasMessageContaining("GENQUEUE_MIN_FREE_DISK");
        }
    }

    @Test
    void the_openai_default_model_must_be_a_served_model() {
        assertThatThrownBy(() -> Settings.load(Map.of(), null, Map.of("GENQUEUE_MODELS", "nano_banana,nano_banana_pro",
                "GENQUEUE_OPENAI_MODEL", "dall-e-3")))
                .hasMessageContaining("GENQUEUE_OPENAI_MODEL").hasMessageContaining("dall-e-3").hasMessageContaining("nano_banana, nano_banana_pro");
        assertThat(Settings.load(Map.of(), null, Map.of("GENQUEUE_MODELS", "nano_banana_pro", "GENQUEUE_OPENAI_MODEL", "nano_banana_pro"))
                .openAiModel()).isEqualTo("nano_banana_pro");
        assertThat(Settings.load(Map.of(), null, Map.of()).openAiTimeout()).isEqualTo(java.time.Duration.ofMinutes(5));
    }

    @Test
    void the_readme_lists_every_setting_as_the_code_defines_it() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8); // the tests run in server/
        assertThat(readme).contains(Settings.markdownTable());
    }
}
