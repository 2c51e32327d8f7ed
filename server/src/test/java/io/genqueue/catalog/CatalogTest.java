package io.genqueue.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.image.AspectRatio;
import io.genqueue.image.OutputFormat;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The built-in catalog's tables, a catalog file that adds and replaces models, and files a start must refuse. */
class CatalogTest {

    @TempDir
    Path dir;

    @Test
    void nano_banana_keeps_the_seeds_table() {
        Model m = Catalog.builtInOnly().find("nano_banana").orElseThrow();
        assertThat(m.imageSizes()).containsExactly("1K");
        assertThat(m.aspectRatios()).containsExactly(AspectRatio.values());
        for (AspectRatio r : AspectRatio.values()) { // the seed's table, which AspectRatio holds
            assertThat(m.size(r, "1K")).contains(new OutputSize(r, "1K", r.width(), r.height()));
        }
        assertThat(m.outputSizes()).hasSize(10);
        assertThat(m.maxReferenceImages()).isEqualTo(3);
        assertThat(List.of(m.minNumImages(), m.maxNumImages())).containsExactly(1, 4);
        assertThat(m.outputFormats()).containsExactly(OutputFormat.PNG, OutputFormat.JPEG, OutputFormat.WEBP);
        assertThat(m.fields()).containsExactlyInAnyOrderElementsOf(Model.FIELDS);
        assertThat(m.providers()).containsExactly(new ProviderRoute("gemini", "gemini-2.5-flash-image", false),
                new ProviderRoute("openrouter", "google/gemini-2.5-flash-image", false), new ProviderRoute("fal", "fal-ai/nano-banana", false));
        assertThat(m.slotCap(4)).isEqualTo(4);
        assertThat(m.source()).isNotEmpty();
    }

    @ParameterizedTest
    @CsvSource({"1:1,1K,1024,1024", "1:1,4K,4096,4096", "16:9,1K,1376,768", "16:9,2K,2752,1536", "16:9,4K,5504,3072",
            "9:16,2K,1536,2752", "21:9,4K,6336,2688", "2:3,1K,848,1264", "4:5,2K,1856,2304", "5:4,4K,4608,3712"})
    void nano_banana_pro_has_googles_sizes_per_ratio_and_tier(String ratio, String tier, int width, int height) {
        Model m = Catalog.builtInOnly().find("nano_banana_pro").orElseThrow();
        assertThat(m.size(AspectRatio.fromWire(ratio).orElseThrow(), tier))
                .contains(new OutputSize(AspectRatio.fromWire(ratio).orElseThrow(), tier, width, height));
    }

    @Test
    void nano_banana_pro_takes_three_tiers_fourteen_references_and_sends_the_tier_upstream() {
        Model m = Catalog.builtInOnly().find("nano_banana_pro").orElseThrow();
        assertThat(m.imageSizes()).containsExactly("1K", "2K", "4K");
        assertThat(m.defaultImageSize()).isEqualTo("1K");
        assertThat(m.aspectRatios()).containsExactly(AspectRatio.values());
        assertThat(m.outputSizes()).hasSize(30);
        assertThat(m.outputSizes().stream().map(OutputSize::resolution).distinct()).hasSize(30); // a resolution names one entry
        assertThat(m.maxReferenceImages()).isEqualTo(14);
        assertThat(m.providers()).containsExactly(new ProviderRoute("gemini", "gemini-3-pro-image-preview", true),
                new ProviderRoute("openrouter", "google/gemini-3-pro-image-preview", true),
                new ProviderRoute("fal", "fal-ai/nano-banana-pro", true));
        assertThat(m.slotCap(4)).isEqualTo(2);
        assertThat(m.slotCap(1)).isEqualTo(1);
        assertThat(m.cost(3)).isEqualByComparingTo(new BigDecimal("0.402"));
        assertThat(String.join(" ", m.source())).contains("ai.google.dev").contains("openrouter.ai").contains("fal.ai");
    }

    @Test
    void a_catalog_file_adds_a_model_and_replaces_a_built_in_one() throws IOException {
        Path file = write(catalog(entry("nano_banana", "\"description\": \"replaced\"", "\"slot_share\": 0.25"),
                entry("square_only", "\"aspect_ratios\": [\"1:1\"]", "\"sizes\": {\"1K\": {\"1:1\": \"512x512\"}}")));
        Catalog c = Catalog.load(Optional.of(file), Set.of());
        assertThat(c.ids()).containsExactlyInAnyOrder("nano_banana", "nano_banana_pro", "square_only");
        assertThat(c.find("nano_banana").orElseThrow().description()).isEqualTo("replaced");
        assertThat(c.find("nano_banana").orElseThrow().slotCap(8)).isEqualTo(2);
        Model square = c.find("square_only").orElseThrow();
        assertThat(square.outputSizes()).containsExactly(new OutputSize(AspectRatio.R1_1, "1K", 512, 512));
        assertThat(c.models().stream().map(Model::id)).containsExactly("nano_banana", "nano_banana_pro", "square_only");

        assertThat(Catalog.load(Optional.of(file), Set.of("square_only")).ids()).containsExactly("square_only");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "an unknown field|\"colour\": \"red\"|model 'odd': field 'colour': unknown field",
        "an unknown aspect ratio|\"aspect_ratios\": [\"7:5\"]|model 'odd': field 'aspect_ratios': '7:5' is not an aspect ratio",
        "a size missing from the table|\"sizes\": {\"1K\": {}}|model 'odd': field 'sizes.1K.1:1': missing",
        "a malformed size|\"sizes\": {\"1K\": {\"1:1\": \"big\"}}|model 'odd': field 'sizes.1K.1:1': should be \"WIDTHxHEIGHT\"",
        "a tier without sizes|\"image_sizes\": [\"1K\", \"2K\"]|model 'odd': field 'sizes': lacks the tier 2K",
        "an unknown provider|\"providers\": [{\"provider\": \"dalle\", \"model\": \"x\"}]|model 'odd': field 'providers[0].provider': 'dalle'",
        "a provider without a model|\"providers\": [{\"provider\": \"gemini\"}]|model 'odd': field 'providers[0]': should be",
        "a slot share of zero|\"slot_share\": 0|model 'odd': field 'slot_share': should be a number above 0",
        "a negative price|\"price_per_image\": -1|model 'odd': field 'price_per_image'",
        "a field no submit has|\"fields\": [\"prompt\", \"style\"]|model 'odd': field 'fields': 'style' is not a submit field",
        "a range upside down|\"num_images\": {\"min\": 3, \"max\": 2}|model 'odd': field 'num_images': max 2 is below min 3",
        "a bad id|\"id\": \"Odd Model\"|model 'Odd Model': field 'id': 'Odd Model' is not a model id",
    })
    void a_bad_entry_is_refused_naming_the_model_and_the_field(String what, String change, String message) throws IOException {
        Path file = write(catalog(entry("odd", change)));
        assertThatThrownBy(() -> Catalog.load(Optional.of(file), Set.of()))
                .isInstanceOf(CatalogException.class)
                .hasMessageStartingWith("catalog " + file + ": ")
                .hasMessageContaining(message);
    }

    @Test
    void a_missing_field_a_file_that_is_not_json_and_an_unknown_served_id_are_refused() throws IOException {
        String without = entry("odd").replace(", \"price_per_image\": 0.01", "");
        Path missing = write(catalog(without));
        assertThatThrownBy(() -> Catalog.load(Optional.of(missing), Set.of()))
                .hasMessageContaining("model 'odd': field 'price_per_image': missing");
        Path broken = write("{\"models\": [");
        assertThatThrownBy(() -> Catalog.load(Optional.of(broken), Set.of())).hasMessageContaining("not valid JSON");
        Path twice = write("{\"models\": [" + entry("odd") + "], \"models\": []}");
        assertThatThrownBy(() -> Catalog.load(Optional.of(twice), Set.of())).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> Catalog.load(Optional.of(dir.resolve("absent.json")), Set.of()))
                .hasMessageContaining("GENQUEUE_CATALOG: cannot read");
        assertThatThrownBy(() -> Catalog.load(Optional.empty(), Set.of("flux")))
                .hasMessageContaining("GENQUEUE_MODELS: names flux, which no catalog has (it has nano_banana, nano_banana_pro)");
    }

    /** A valid model entry with {@code changes} (whole {@code "key": value} pairs) replacing its keys. */
    static String entry(String id, String... changes) {
        java.util.Map<String, String> fields = new java.util.LinkedHashMap<>();
        fields.put("id", "\"" + id + "\"");
        fields.put("description", "\"a test model\"");
        fields.put("source", "\"this test\"");
        fields.put("fields", "[\"prompt\", \"aspect_ratio\", \"num_images\"]");
        fields.put("aspect_ratios", "[\"1:1\", \"16:9\"]");
        fields.put("image_sizes", "[\"1K\"]");
        fields.put("sizes", "{\"1K\": {\"1:1\": \"1000x1000\", \"16:9\": \"1600x900\"}}");
        fields.put("max_reference_images", "2");
        fields.put("num_images", "{\"min\": 1, \"max\": 2}");
        fields.put("output_formats", "[\"png\"]");
        fields.put("providers", "[{\"provider\": \"gemini\", \"model\": \"gemini-x\"}]");
        fields.put("slot_share", "0.5");
        fields.put("price_per_image", "0.01");
        for (String change : changes) {
            String key = change.substring(change.indexOf('"') + 1, change.indexOf('"', 1));
            fields.put(key, change.substring(change.indexOf(':') + 1).strip());
        }
        StringBuilder sb = new StringBuilder("{");
        fields.forEach((k, v) -> sb.append('"').append(k).append("\": ").append(v).append(", "));
        sb.setLength(sb.length() - 2);
        return sb.append('}').toString();
    }

    static String catalog(String... entries) {
        return "{\"//\": \"a test catalog\", \"models\": [" + String.join(", ", Arrays.asList(entries)) + "]}";
    }

    private Path write(String json) throws IOException {
        Path file = Files.createTempFile(dir, "catalog", ".json");
        Files.writeString(file, json, StandardCharsets.UTF_8);
        return file;
    }
}
