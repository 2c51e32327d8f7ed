package io.genqueue.blob.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

class S3SettingsTest {

    @Test
    void a_location_names_the_bucket_and_the_prefix() {
        S3Settings s = S3Settings.parse("s3://my-bucket/genqueue/images/", "http://127.0.0.1:9000", "eu-west-1", true,
                "AKIDEXAMPLE", "secret");

        assertThat(s.bucket()).isEqualTo("my-bucket");
        assertThat(s.prefix()).isEqualTo("genqueue/images");
        assertThat(s.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
        assertThat(s.region()).isEqualTo("eu-west-1");
        assertThat(s.pathStyle()).isTrue();
        assertThat(s.objectKey("job_1/0.png")).isEqualTo("genqueue/images/job_1/0.png");
        assertThat(s.location()).isEqualTo("s3://my-bucket/genqueue/images");
    }

    @Test
    void a_bare_bucket_has_no_prefix_and_blank_options_are_absent() {
        S3Settings s = S3Settings.parse("s3://images", "", " ", false, "", null);

        assertThat(s.prefix()).isEmpty();
        assertThat(s.objectKey("job_1/0.png")).isEqualTo("job_1/0.png");
        assertThat(s.endpoint()).isNull();
        assertThat(s.region()).isNull();
        assertThat(s.accessKey()).isNull();
        assertThat(s.secretKey()).isNull();
    }

    @Test
    void bad_locations_are_refused_with_the_expected_form() {
        assertThatThrownBy(() -> S3Settings.parse("/var/images", null, null, false, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("s3://bucket/prefix");
        assertThatThrownBy(() -> S3Settings.parse("s3://", null, null, false, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bucket");
        assertThatThrownBy(() -> S3Settings.parse("s3://Upper_Case!", null, null, false, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bucket");
    }

    @Test
    void an_endpoint_must_be_an_http_url() {
        assertThatThrownBy(() -> S3Settings.parse("s3://images", "ftp://host", null, true, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http(s)");
        assertThatThrownBy(() -> S3Settings.parse("s3://images", "not a url", null, true, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http(s)");
    }

    @Test
    void credentials_come_in_pairs() {
        assertThatThrownBy(() -> S3Settings.parse("s3://images", null, "us-east-1", false, "AKIDEXAMPLE", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("both");
    }

    @Test
    void the_secret_key_is_never_printed() {
        S3Settings s = S3Settings.parse("s3://images/p", null, "us-east-1", false, "AKIDEXAMPLE", "wJalrXUtnFEMI-secret");

        assertThat(s.toString()).contains("s3://images/p").contains("AKIDEXAMPLE").doesNotContain("wJalrXUtnFEMI-secret");
    }
}
