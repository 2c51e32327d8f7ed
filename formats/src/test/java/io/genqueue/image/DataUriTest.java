package io.genqueue.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.genqueue.testing.TestImages;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DataUriTest {

    private static final long MAX = 7L * 1024 * 1024;
    private static final byte[] PNG = TestImages.png(4, 3);
    private static final String PNG_BASE64 = Base64.getEncoder().encodeToString(PNG);

    @Test
    void decodes_a_png_data_uri() {
        DataUri uri = DataUri.parse("data:image/png;base64," + PNG_BASE64, MAX);

        assertThat(uri.mediaType()).isEqualTo("image/png");
        assertThat(uri.bytes()).isEqualTo(PNG);
    }

    @Test
    void scheme_type_and_encoding_are_case_insensitive() {
        DataUri uri = DataUri.parse("DATA:Image/PNG;BASE64," + PNG_BASE64, MAX);

        assertThat(uri.mediaType()).isEqualTo("image/png");
        assertThat(uri.bytes()).isEqualTo(PNG);
    }

    @Test
    void normalizes_image_jpg_and_ignores_parameters() {
        DataUri uri = DataUri.parse("data:image/jpg;charset=utf-8;name=photo.jpg;base64,"
                + Base64.getEncoder().encodeToString(TestImages.jpeg(2, 2)), MAX);

        assertThat(uri.mediaType()).isEqualTo("image/jpeg");
    }

    @Test
    void padding_is_optional() {
        String unpadded = Base64.getEncoder().withoutPadding().encodeToString(new byte[] {1, 2, 3, 4});

        assertThat(DataUri.parse("data:image/gif;base64," + unpadded, MAX).bytes()).containsExactly(1, 2, 3, 4);
        assertThat(DataUri.parse("data:image/gif;base64,AQIDBA==", MAX).bytes()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void accepts_exactly_max_bytes() {
        String tenBytes = Base64.getEncoder().encodeToString(new byte[10]);

        assertThat(DataUri.parse("data:image/webp;base64," + tenBytes, 10).bytes()).hasSize(10);
        assertThatThrownBy(() -> DataUri.parse("data:image/webp;base64," + tenBytes, 9))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("data URI is larger than 9 bytes");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "data:image/png,rawbytes                 | data URI is not base64-encoded",
        "data:image/png;charset=utf-8,abc        | data URI is not base64-encoded",
        "data:text/plain;base64,SGVsbG8=         | data URI is not an image (text/plain)",
        "data:application/pdf;base64,SGVsbG8=    | data URI is not an image (application/pdf)",
        "data:;base64,SGVsbG8=                   | data URI does not declare an image type",
        "data:image/svg+xml;base64,PHN2Zz4=      | data URI image type image/svg+xml is not supported: use PNG, JPEG, WebP or GIF",
        "data:image/png;base64,                  | data URI has no data",
        "data:image/png;base64                   | data URI has no comma before its data",
        "data:image/png;base64,@@@@              | data URI is not valid base64",
        "data:image/png;base64,AQID-_==          | data URI is not valid base64",
        "data:image/png;base64,AQID%2B==         | data URI is not valid base64",
        "data:image/png;base64,AQ ID             | data URI is not valid base64",
        "data:image/png;base64,A                 | data URI is not valid base64",
        "data:image/png;base64,AQIDB             | data URI is not valid base64",
        "data:image/png;base64,AQI=A             | data URI is not valid base64",
        "data:image/png;base64,AQ=               | data URI is not valid base64",
        "data:image/png;base64,AQID===           | data URI is not valid base64",
        "data:image/png;base64,====              | data URI is not valid base64",
        "data:image/png;x y;base64,AQID          | data URI has a malformed parameter",
        "data:image/png;;base64,AQID             | data URI has a malformed parameter",
        "http://example.com/a.png                | data URI must start with data:",
    })
    void refusesWithAClientFacingMessage(String uri, String message) {
        assertThatThrownBy(() -> DataUri.parse(uri, MAX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void refuses_a_huge_payload_without_decoding_it() {
        // 40 MB of characters that are not even base64: the length alone decides.
        String huge = "data:image/png;base64," + "!".repeat(40_000_000);

        assertThatThrownBy(() -> DataUri.parse(huge, MAX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("data URI is larger than 7 MiB");
    }

    @Test
    void recognizes_data_uris_by_prefix() {
        assertThat(DataUri.looksLikeDataUri("data:image/png;base64,AAAA")).isTrue();
        assertThat(DataUri.looksLikeDataUri("DaTa:whatever")).isTrue();
        assertThat(DataUri.looksLikeDataUri("http://example.com/data:")).isFalse();
        assertThat(DataUri.looksLikeDataUri("dat")).isFalse();
    }
}
