package io.genqueue.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher at the repository's root ({@code ./genqueue}), as a newcomer runs it: it finds a
 * JDK 21 or newer, runs the program, and without a JDK says in one line how to get one.
 */
class LauncherIT {

    private static final Path LAUNCHER = Path.of("..", "genqueue").toAbsolutePath().normalize();

    private record Run(int code, String out, String err) {
    }

    private static Run launch(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(LAUNCHER.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        // both streams are small: read one after the other
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the launcher ended").isTrue();
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void it_finds_a_jdk_of_version_21_or_newer() throws Exception {
        Run r = launch(Map.of(), "jdk");
        assertThat(r.code()).as(r.err()).isZero();
        Path home = Path.of(r.out().strip());
        assertThat(home.resolve("bin/javac")).isExecutable();
        Process version = new ProcessBuilder(home.resolve("bin/java").toString(), "-XshowSettings:properties", "-version")
                .redirectErrorStream(true).start();
        String properties = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        version.waitFor();
        String spec = properties.lines().filter(l -> l.strip().startsWith("java.specification.version"))
                .findFirst().orElseThrow().split("=")[1].strip();
        assertThat(Integer.parseInt(spec)).isGreaterThanOrEqualTo(21);
    }

    @Test
    void it_runs_the_program_it_built() throws Exception {
        Run r = launch(Map.of(), "--help");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("serve", "keys", "emulate");
    }

    @Test
    void without_a_jdk_it_says_in_one_line_how_to_get_one(@TempDir Path bin) throws Exception {
        // a PATH with the shell tools the launcher uses and no java, no JDK folders to search
        for (String tool : List.of("bash", "env", "dirname", "readlink", "awk", "find")) {
            Path real = List.of(Path.of("/usr/bin", tool), Path.of("/bin", tool)).stream().filter(Files::isExecutable)
                    .findFirst().orElseThrow(() -> new AssertionError("no " + tool + " on this machine"));
            Files.createSymbolicLink(bin.resolve(tool), real);
        }
        Run r = launch(Map.of("PATH", bin.toString(), "JAVA_HOME", "/nonexistent", "GENQUEUE_JDK_SEARCH", ""), "serve");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().strip().lines()).singleElement().asString()
                .contains("no JDK 21 or newer", "apt install openjdk-21-jdk", "https://adoptium.net", "JAVA_HOME");
    }
}
