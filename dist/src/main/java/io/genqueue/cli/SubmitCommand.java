package io.genqueue.cli;

import io.genqueue.client.GenQueueClient;
import io.genqueue.client.Result;
import io.genqueue.client.Status;
import io.genqueue.client.SubmitRequest;
import io.genqueue.client.Submitted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code submit "PROMPT" [...]}: submits a generation. Without {@code --wait} it prints the request
 * id; with it, it follows the request (progress on standard error), writes the images and prints
 * their paths.
 */
@Command(name = "submit", mixinStandardHelpOptions = true, description = "Submit a generation to a genqueue server.")
final class SubmitCommand extends ClientCommand {

    private final boolean terminal;

    @Parameters(index = "0", description = "The prompt (1 to 2500 characters).")
    String prompt;

    @Option(names = "--ref", description = "A reference image: a file, or an http(s) URL (up to 3; repeat the flag).")
    List<String> refs = new ArrayList<>();

    @Option(names = "--aspect-ratio", description = "1:1 2:3 3:2 3:4 4:3 4:5 5:4 9:16 16:9 21:9")
    String aspectRatio;

    @Option(names = "--resolution", description = "The size for the ratio, such as 1344x768 (implies its ratio).")
    String resolution;

    @Option(names = "--num-images", description = "1 to 4 (default 1).")
    Integer numImages;

    @Option(names = "--format", description = "png (default), jpeg or webp.")
    String format;

    @Option(names = "--wait", description = "Wait for the images, write them and print their paths.")
    boolean await;

    @Option(names = "--timeout", defaultValue = "10m", converter = DurationConverter.class,
            description = "How long --wait waits (default ${DEFAULT-VALUE}; 90s, 5m, 1h).")
    Duration timeout;

    @Option(names = "--out", defaultValue = ".", description = "With --wait: a directory (default the current one) or a file.")
    Path out;

    SubmitCommand(boolean terminal) {
        this.terminal = terminal;
    }

    @Override
    int run(GenQueueClient client) {
        SubmitRequest.Builder builder = SubmitRequest.builder(prompt).aspectRatio(aspectRatio).resolution(resolution).outputFormat(format);
        if (numImages != null) {
            builder.numImages(numImages);
        }
        for (String ref : refs) {
            if (ref.startsWith("http://") || ref.startsWith("https://") || ref.startsWith("data:")) {
                builder.imageUrl(ref);
            } else if (Files.isRegularFile(Path.of(ref))) {
                builder.referenceImage(Path.of(ref));
            } else {
                throw new BadInput("--ref " + ref + ": no such file (and not an http(s) URL)");
            }
        }
        SubmitRequest request = builder.build();
        if (!await) {
            Submitted submitted = client.submit(request);
            out().println(submitted.requestId());
            return ExitCodes.OK;
        }
        Result result = client.subscribe(request, timeout, new Progress(err(), terminal));
        for (Path written : ImageFiles.write(client, result, out)) {
            out().println(written);
        }
        return ExitCodes.OK;
    }

    /** {@code 90s}, {@code 5m}, {@code 1h}, or an ISO-8601 duration. */
    static final class DurationConverter implements picocli.CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.strip().toLowerCase(java.util.Locale.ROOT);
            if (v.startsWith("p")) {
                return Duration.parse(v.toUpperCase(java.util.Locale.ROOT));
            }
            long n = Long.parseLong(v.substring(0, v.length() - 1));
            return switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> throw new IllegalArgumentException("a duration such as 90s, 5m or 1h: " + value);
            };
        }
    }
}
