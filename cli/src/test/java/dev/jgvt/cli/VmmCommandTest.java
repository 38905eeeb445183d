package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gvt vmm} rejects what cannot be a vfio-user server before it loads the plugin or connects. */
final class VmmCommandTest {
    @Test
    void aFileOrDirectoryIsNotASocket(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("not.sock"), "x");
        for (Path path : new Path[] {file, dir}) {
            CliRun run = CliRun.of("vmm", "--socket", path.toString());

            assertThat(run.exitCode()).as(run.err()).isEqualTo(2);
            assertThat(run.err()).isEqualTo("gvt vmm: INVALID_ARGUMENT: " + path + " is not a socket" + System.lineSeparator());
        }
    }

    @Test
    void aJarThatIsNoZipIsSkippedWhenLookingForThePlugin(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("a-broken.jar"), "not a zip");

        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> VmmCommand.pluginJar(dir)))
                .hasMessage("no kvm-vfio plugin jar in " + dir);
    }
}
