package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command in-process; the real plugins are listed by PluginsCommandIT against the distribution. */
final class PluginsCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine commandLine = Main.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        return commandLine.execute(args);
    }

    @Test
    void aMissingDirectoryIsRejectedWithItsName(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-plugins");
        assertThat(run("plugins", "--plugins-dir", missing.toString())).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("gvt plugins: NOT_FOUND: plugins directory " + missing + " does not exist"
                + System.lineSeparator());
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void aFileInsteadOfADirectoryIsRejected(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("plugins"), "x");
        assertThat(run("plugins", "--plugins-dir", file.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("INVALID_ARGUMENT", file + " is not a directory");
    }

    @Test
    void anEmptyDirectoryGivesAHeaderOnlyOrAnEmptyArray(@TempDir Path dir) {
        assertThat(run("plugins", "--plugins-dir", dir.toString())).isEqualTo(0);
        assertThat(out.toString().strip()).isEqualTo("ID  VERSION  STATE  CAPABILITIES  STATUS");

        out.getBuffer().setLength(0);
        assertThat(run("plugins", "--json", "--plugins-dir", dir.toString())).isEqualTo(0);
        assertThat(out.toString().strip()).isEqualTo("[ ]");
    }

    @Test
    void aBrokenPluginIsListedWithItsErrorAndTheListingSucceeds(@TempDir Path dir) throws IOException {
        Path jar = Files.writeString(dir.resolve("broken.jar"), "not a jar");

        assertThat(run("plugins", "--plugins-dir", dir.toString())).isEqualTo(0);
        assertThat(out.toString().lines().toList()).hasSize(2).last().asString()
                .startsWith("-   -        FAILED")
                .endsWith("broken.jar: not a readable jar archive (ZipException: zip END header not found)");

        out.getBuffer().setLength(0);
        assertThat(run("plugins", "--json", "--plugins-dir", dir.toString())).isEqualTo(0);
        JsonNode rows = new ObjectMapper().readTree(out.toString());
        assertThat(rows.isArray()).isTrue();
        assertThat(rows).hasSize(1);
        JsonNode row = rows.get(0);
        assertThat(row.get("id").isNull()).isTrue();
        assertThat(row.get("state").asText()).isEqualTo("FAILED");
        assertThat(row.get("available").isNull()).isTrue();
        assertThat(row.get("error").asText()).startsWith("broken.jar: not a readable jar archive");
        assertThat(row.get("file").asText()).isEqualTo(jar.toAbsolutePath().toString());
        assertThat(row.get("capabilities").isArray()).isTrue();
    }

    @Test
    void withoutAnyDirectoryOrJgvtHomeTheUsageIsRejected() {
        String home = System.clearProperty(PluginsCommand.HOME_PROPERTY);
        try {
            assertThat(run("plugins")).isEqualTo(2);
            assertThat(err.toString()).contains("no plugins directory: give --plugins-dir DIR");
        } finally {
            if (home != null) {
                System.setProperty(PluginsCommand.HOME_PROPERTY, home);
            }
        }
    }

    @Test
    void theDefaultDirectoryIsPluginsUnderJgvtHome(@TempDir Path home) throws IOException {
        Files.createDirectories(home.resolve("plugins"));
        String previous = System.setProperty(PluginsCommand.HOME_PROPERTY, home.toString());
        try {
            assertThat(run("plugins", "--json")).isEqualTo(0);
            assertThat(out.toString().strip()).isEqualTo("[ ]");
        } finally {
            if (previous == null) {
                System.clearProperty(PluginsCommand.HOME_PROPERTY);
            } else {
                System.setProperty(PluginsCommand.HOME_PROPERTY, previous);
            }
        }
    }

    @Test
    void helpDocumentsTheOptionsAndExitCodes() {
        assertThat(run("plugins", "--help")).isEqualTo(0);
        assertThat(out.toString()).contains("--json", "--plugins-dir=DIR", "Exit codes:",
                "0   the listing worked", "2   bad usage, or the plugins directory does not exist");
    }

    @Test
    void theTopLevelHelpListsTheCommand() {
        assertThat(run("--help")).isEqualTo(0);
        assertThat(out.toString()).contains("plugins", "version");
    }
}
