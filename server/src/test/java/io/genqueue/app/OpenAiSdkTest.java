package io.genqueue.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.images.Image;
import com.openai.models.images.ImageEditParams;
import com.openai.models.images.ImageGenerateParams;
import com.openai.models.images.ImagesResponse;
import io.genqueue.emulator.gemini.GeminiEmulator;
import io.genqueue.image.ImageInfo;
import io.genqueue.image.ImageProbe;
import io.genqueue.provider.ProviderSettings;
import io.genqueue.provider.gemini.GeminiProvider;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OpenAI's official Java SDK ({@code com.openai:openai-java}), unchanged but for its base URL and
 * key, against the real server with the Gemini provider in front of the Gemini emulator: images
 * made and edited come back as the SDK reads them, inline and as links, and the SDK raises its own
 * exceptions, with OpenAI's codes, for an invalid size, a bad key, an unknown model and a refusal.
 */
class OpenAiSdkTest {

    static final String GEMINI_KEY = "AIzaSyOpenAiSdk";
    static GeminiEmulator emulator;
    static TestServer server;
    static OpenAIClient openai;

    @BeforeAll
    static void start() {
        emulator = GeminiEmulator.start("127.0.0.1", 0, GEMINI_KEY);
        GeminiProvider gemini = new GeminiProvider(new ProviderSettings(emulator.baseUrl(), GEMINI_KEY, GeminiProvider.DEFAULT_MODEL,
                Duration.ofSeconds(2), Duration.ofSeconds(20)));
        server = TestServer.start(Map.of("GENQUEUE_MAX_ATTEMPTS", "2", "GENQUEUE_RETRY_BASE", "10ms", "GENQUEUE_RETRY_MAX", "20ms"),
                Clock.systemUTC(), gemini);
        openai = client(server.key);
    }

    @AfterAll
    static void stop() {
        openai.close();
        server.close();
        emulator.close();
    }

    static OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder().baseUrl(server.base + "/v1").apiKey(key).maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
    }

    static List<GeminiEmulator.Exchange> callsWith(String marker) {
        return emulator.requests().stream().filter(e -> e.body().contains(marker)).toList();
    }

    @Test
    void generate_returns_the_emulator_s_images_inline_at_the_model_s_size() {
        ImagesResponse response = openai.images().generate(ImageGenerateParams.builder().model("nano_banana")
                .prompt("a lighthouse in a storm sdk-b64").n(2).size("1344x768")
                .responseFormat(ImageGenerateParams.ResponseFormat.B64_JSON).build());

        List<Image> data = response.data().orElseThrow();
        assertThat(data).hasSize(2);
        List<GeminiEmulator.Exchange> calls = callsWith("sdk-b64");
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0).json().at("/generationConfig/imageConfig/aspectRatio").asText()).isEqualTo("16:9");
        for (int i = 0; i < 2; i++) {
            byte[] bytes = Base64.getDecoder().decode(data.get(i).b64Json().orElseThrow());
            ImageInfo info = ImageProbe.probe(bytes, Long.MAX_VALUE);
            assertThat(info.width()).isEqualTo(1344);
            assertThat(info.height()).isEqualTo(768);
            assertThat(bytes).isEqualTo(calls.get(i).images().get(0));
        }
        assertThat(response.created()).isPositive();
        assertThat(response.outputFormat().orElseThrow().asString()).isEqualTo("png");
    }

    @Test
    void generate_with_url_gives_a_link_to_the_image_at_the_nearest_ratio() throws Exception {
        ImagesResponse response = openai.images().generate(ImageGenerateParams.builder()
                .prompt("a tall tower sdk-url").size(ImageGenerateParams.Size._1024X1536)
                .responseFormat(ImageGenerateParams.ResponseFormat.URL).build());

        String url = response.data().orElseThrow().get(0).url().orElseThrow();
        HttpResponse<byte[]> file = server.client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.headers().firstValue("Content-Type")).contains("image/png");
        ImageInfo info = ImageProbe.probe(file.body(), Long.MAX_VALUE);
        assertThat(info.width() + "x" + info.height()).isEqualTo("832x1248"); // 2:3, the model's size nearest 1024x1536
        assertThat(file.body()).isEqualTo(callsWith("sdk-url").get(0).images().get(0));
    }

    @Test
    void edit_sends_the_file_as_the_reference_image() throws Exception {
        byte[] png = OpenAiImagesTest.png(640, 360);

        ImagesResponse response = openai.images().edit(ImageEditParams.builder().model("nano_banana")
                .image(ImageEditParams.Image.ofInputStreams(List.of(new java.io.ByteArrayInputStream(png))))
                .prompt("paint it red sdk-edit").responseFormat(ImageEditParams.ResponseFormat.B64_JSON).build());

        byte[] bytes = Base64.getDecoder().decode(response.data().orElseThrow().get(0).b64Json().orElseThrow());
        ImageInfo info = ImageProbe.probe(bytes, Long.MAX_VALUE);
        assertThat(info.width() + "x" + info.height()).isEqualTo("1344x768"); // the reference's 16:9 decides
        GeminiEmulator.Exchange call = callsWith("sdk-edit").get(0);
        assertThat(call.body()).contains(Base64.getEncoder().encodeToString(png));
        assertThat(bytes).isEqualTo(call.images().get(0));

        ImagesResponse url = openai.images().edit(ImageEditParams.builder().image(png).prompt("again sdk-edit-url")
                .size("1024x1024").responseFormat(ImageEditParams.ResponseFormat.URL).build());
        assertThat(url.data().orElseThrow().get(0).url().orElseThrow()).startsWith(server.base + "/files/");
    }

    @Test
    void an_invalid_size_is_the_sdk_s_bad_request_naming_the_allowed_sizes() {
        assertThatThrownBy(() -> openai.images().generate(ImageGenerateParams.builder().prompt("x sdk-size").size("256x256").build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.param()).contains("size");
                    assertThat(e.type()).contains("invalid_request_error");
                    assertThat(e.getMessage()).contains("256x256").contains("1024x1024").contains("1536x1024")
                            .contains("1024x1536").contains("auto").contains("1344x768");
                });
        assertThat(callsWith("sdk-size")).isEmpty();
    }

    @Test
    void a_bad_key_is_the_sdk_s_unauthorized() {
        OpenAIClient stranger = client("gq_unknown-key");
        try {
            assertThatThrownBy(() -> stranger.images().generate(ImageGenerateParams.builder().prompt("x").build()))
                    .isInstanceOfSatisfying(UnauthorizedException.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(401);
                        assertThat(e.code()).contains("invalid_api_key");
                        assertThat(e.getMessage()).doesNotContain("gq_unknown-key");
                    });
        } finally {
            stranger.close();
        }
    }

    @Test
    void an_unknown_model_is_the_sdk_s_not_found() {
        assertThatThrownBy(() -> openai.images().generate(ImageGenerateParams.builder().model("gpt-image-1").prompt("x").build()))
                .isInstanceOfSatisfying(NotFoundException.class, e -> assertThat(e.code()).contains("model_not_found"));
    }

    @Test
    void a_refusal_by_gemini_is_a_content_policy_violation() {
        assertThatThrownBy(() -> openai.images().generate(ImageGenerateParams.builder()
                .prompt("[emulate:prompt_blocked] something forbidden sdk-blocked").build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.code()).contains("content_policy_violation");
                    assertThat(e.getMessage()).contains("safety system").contains("PROHIBITED_CONTENT").doesNotContain(GEMINI_KEY);
                });
        assertThat(callsWith("sdk-blocked")).hasSize(1); // a refusal is final: no retry
    }

    @Test
    void an_overloaded_model_is_the_sdk_s_server_error_after_the_queue_s_retries() {
        assertThatThrownBy(() -> openai.images().generate(ImageGenerateParams.builder()
                .prompt("[emulate:overloaded] busy sdk-busy").build()))
                .isInstanceOfSatisfying(OpenAIServiceException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(503);
                    assertThat(e.code()).contains("provider_unavailable");
                });
    }
}
