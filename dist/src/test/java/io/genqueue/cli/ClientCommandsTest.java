package io.genqueue.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.genqueue.client.LiveServer;
import io.genqueue.client.LogLine;
import io.genqueue.client.ScriptedModel;
import io.genqueue.client.Status;
import io.genqueue.testing.TestImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code submit}, {@code status}, {@code result} and {@code cancel} through the program's entry
 * point ({@link Main#commandLine}) against the real server over HTTP.
 */
class ClientCommandsTest {

    record Run(int code, String out, String err) {
        List<String> outLines() {
            return out.isBlank() ? List.of() : List.of(out.strip().split("\n"));
        }
    }

    private static Run run(LiveServer server, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (server != null) {
            all.addAll(List.of("--url", server.base, "--key", server.key));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), false).execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    private static LiveServer server(Map<String, String> settings) {
        return LiveServer.start(LiveServer.Store.SQLITE, settings, new ScriptedModel());
    }

    @Test
    void submit_with_wait_writes_the_images_prints_their_paths_and_shows_progress_on_standard_error() throws IOException {
        Path dir = Files.createTempDirectory("genqueue-cli-out");
        try (LiveServer server = server(Map.of())) {
            Run r = run(server, "submit", "a lighthouse at dusk", "--aspect-ratio", "16:9", "--num-images", "2",
                    "--format", "jpeg", "--wait", "--out", dir.toString());

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.outLines()).hasSize(2).allSatisfy(line -> {
                Path file = Path.of(line);
                assertThat(file.getParent()).isEqualTo(dir);
                assertThat(file.getFileName().toString()).startsWith("req_").endsWith(".jpg");
                assertThat(TestImages.decode(Files.readAllBytes(file)).getWidth()).isEqualTo(1344);
            });
            assertThat(r.err()).contains(": in queue, position 0").contains(": completed");
            assertThat(r.err()).doesNotContain(server.key).doesNotContain("\r");
        }
    }

    @Test
    void on_a_terminal_the_progress_line_is_redrawn_in_place() {
        StringWriter err = new StringWriter();
        Progress progress = new Progress(new PrintWriter(err, true), true);
        progress.accept(new Status(Status.State.IN_QUEUE, "req_1", 2, List.of(), null, null, null));
        progress.accept(new Status(Status.State.IN_PROGRESS, "req_1", null,
                List.of(new LogLine("calling the model", "INFO", null)), null, null, null));
        progress.accept(new Status(Status.State.COMPLETED, "req_1", null, List.of(), 1.0, null, null));
        List<String> lines = List.of(err.toString().split("\n"));

        assertThat(err.toString()).startsWith("\r\033[Kreq_1: in queue, position 2");
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("info: calling the model"));
        assertThat(lines.getLast()).contains("\r\033[Kreq_1: running, ").contains("\r\033[Kreq_1: completed after ");
    }

    @Test
    void a_reference_file_is_sent_and_the_image_is_written_to_the_file_named_by_out() throws IOException {
        Path ref = Files.createTempFile("ref", ".png");
        Files.write(ref, TestImages.png(64, 64));
        Path target = Files.createTempDirectory("genqueue-cli-out").resolve("picture.png");
        try (LiveServer server = server(Map.of())) {
            Run r = run(server, "submit", "like this", "--ref", ref.toString(), "--resolution", "1024x1024", "--wait",
                    "--out", target.toString());

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.outLines()).containsExactly(target.toString());
            assertThat(TestImages.decode(Files.readAllBytes(target)).getWidth()).isEqualTo(1024);
        }
    }

    @Test
    void submit_prints_the_id_then_status_cancel_and_result_follow_it_to_cancelled() throws IOException {
        try (LiveServer server = server(Map.of("GENQUEUE_WORKERS", "0"))) {
            Run submitted = run(server, "submit", "never runs");
            assertThat(submitted.code()).as(submitted.err()).isZero();
            String id = submitted.out().strip();
            assertThat(id).startsWith("req_");

            assertThat(run(server, "status", id).out().strip()).isEqualTo("IN_QUEUE position 0");
            Run notYet = run(server, "result", id);
            assertThat(notYet.code()).isEqualTo(ExitCodes.OTHER);
            assertThat(notYet.err()).contains("still in progress");
            Run cancel = run(server, "cancel", id);
            assertThat(cancel.code()).isZero();
            assertThat(cancel.out().strip()).isEqualTo("cancellation requested");
            assertThat(run(server, "status", id).out().strip()).startsWith("COMPLETED cancelled");
            Run result = run(server, "result", id, "--out", Files.createTempDirectory("out").toString());
            assertThat(result.code()).isEqualTo(ExitCodes.CANCELLED);
            assertThat(result.out()).isEmpty();
        }
    }

    @Test
    void a_request_that_fails_exits_with_failed_and_says_why() {
        try (LiveServer server = server(Map.of())) {
            Run r = run(server, "submit", "a [content] scene", "--wait");

            assertThat(r.code()).isEqualTo(ExitCodes.FAILED);
            assertThat(r.err()).contains("content_policy_violation").contains("blocked");
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void bad_input_exits_with_bad_input_naming_each_field_before_anything_is_sent() {
        try (LiveServer server = server(Map.of())) {
            Run r = run(server, "submit", "a cat", "--num-images", "9", "--format", "gif", "--aspect-ratio", "16:9",
                    "--resolution", "1024x1024");

            assertThat(r.code()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(r.err()).contains("num_images:").contains("output_format:").contains("resolution:");
            Run missing = run(server, "submit", "a cat", "--ref", "/no/such/file.png");
            assertThat(missing.code()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(missing.err()).contains("/no/such/file.png");
            Run refused = run(server, "submit", "a cat", "--ref", "data:image/png;base64,AAAAAAAA");
            assertThat(refused.code()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(refused.err()).contains("refused by the server").contains("image_urls.0:");
        }
    }

    @Test
    void a_server_that_does_not_answer_exits_with_unreachable() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Run r = run(null, "status", "req_x", "--url", "http://127.0.0.1:" + closedPort, "--key", "gq_secret_value");

        assertThat(r.code()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).contains("cannot reach the server").doesNotContain("gq_secret_value");
    }

    @Test
    void a_wait_that_runs_out_exits_with_wait_timeout_and_a_wrong_key_with_other() {
        try (LiveServer server = server(Map.of("GENQUEUE_WORKERS", "0"))) {
            Run r = run(server, "submit", "never runs", "--wait", "--timeout", "1s");
            assertThat(r.code()).isEqualTo(ExitCodes.WAIT_TIMEOUT);
            assertThat(r.err()).contains("did not complete in time");

            Run stranger = run(null, "status", "req_x", "--url", server.base, "--key", "gq_wrong_key_value");
            assertThat(stranger.code()).isEqualTo(ExitCodes.OTHER);
            assertThat(stranger.err()).contains("401").doesNotContain("gq_wrong_key_value");
        }
    }
}
