package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Input files that cannot be read are bad input: one line naming the file, exit 2. */
final class ErrorHandlerTest {
    @Test
    void aMissingInputFileIsNamed(@TempDir Path dir) {
        Path missing = dir.resolve("nope.bin");
        CliRun decode = CliRun.of("decode", "--engine", "rcs", missing.toString());
        assertThat(decode.exitCode()).isEqualTo(2);
        assertThat(decode.err()).isEqualTo("gvt decode: INVALID_ARGUMENT: no such file: " + missing + System.lineSeparator());

        CliRun scan = CliRun.of("scan", "--engine", "bcs", "--aperture", "0x8000000:0x1000000", "--hidden",
                "0x48000000:0x1000000", missing.toString());
        assertThat(scan.exitCode()).isEqualTo(2);
        assertThat(scan.err()).contains("no such file: " + missing);
    }

    @Test
    void aDirectoryGivenAsInputIsRejected(@TempDir Path dir) throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        CliRun decode = CliRun.of("decode", "--engine", "rcs", sub.toString());
        assertThat(decode.exitCode()).isEqualTo(2);
        assertThat(decode.err()).startsWith("gvt decode: ").contains(sub.toString());
    }

    @Test
    void anOutDirectoryThatIsAFileIsNamed(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("out"), "x");
        CliRun demo = CliRun.of("demo", "--frames", "1", "--out", file.toString());
        assertThat(demo.exitCode()).isEqualTo(2);
        assertThat(demo.err()).isEqualTo("gvt demo: INVALID_ARGUMENT: --out " + file + " exists and is not a directory"
                + System.lineSeparator());

        CliRun serve = CliRun.of("serve", "--socket", dir.resolve("s.sock").toString(), "--out", file.toString());
        assertThat(serve.exitCode()).isEqualTo(2);
        assertThat(serve.err()).contains("--out " + file + " exists and is not a directory");
    }

    @Test
    void aScanDumpPathThatCannotBeCreatedIsOneLine(@TempDir Path dir) throws IOException {
        Path existing = Files.writeString(dir.resolve("scan.dump"), "x");
        CliRun serve = CliRun.of("serve", "--socket", dir.resolve("s.sock").toString(), "--scan-dump", existing.toString());
        assertThat(serve.exitCode()).isEqualTo(2);
        assertThat(serve.err()).isEqualTo("gvt serve: INVALID_ARGUMENT: scan dump " + existing
                + " exists (remove it, or choose another file)" + System.lineSeparator());

        Path missingDir = dir.resolve("no/scan.dump");
        CliRun qemu = CliRun.of("qemu", "--scan-dump", missingDir.toString());
        assertThat(qemu.exitCode()).isEqualTo(2);
        assertThat(qemu.err()).isEqualTo("gvt qemu: INVALID_ARGUMENT: scan dump " + missingDir + ": directory "
                + missingDir.getParent() + " does not exist" + System.lineSeparator());

        CliRun limit = CliRun.of("serve", "--socket", dir.resolve("t.sock").toString(), "--scan-dump",
                dir.resolve("new.dump").toString(), "--scan-dump-max-mib", "0");
        assertThat(limit.exitCode()).isEqualTo(2);
        assertThat(limit.err()).contains("--scan-dump-max-mib must be 1..65536, not 0");
        assertThat(dir.resolve("new.dump")).doesNotExist();
    }

    @Test
    void aScanPpgttBatchesWordThatIsNotAnEngineIsOneLine(@TempDir Path dir) {
        CliRun serve = CliRun.of("serve", "--socket", dir.resolve("s.sock").toString(), "--scan-ppgtt-batches", "rcs,gpu");
        assertThat(serve.exitCode()).isEqualTo(2);
        assertThat(serve.err()).isEqualTo("gvt serve: INVALID_ARGUMENT: --scan-ppgtt-batches: 'gpu' is not an engine "
                + "(all, none, or a list of rcs, bcs, vcs, vcs2, vecs)" + System.lineSeparator());
        CliRun daemon = CliRun.of("daemon", "--runtime-dir", dir.resolve("run").toString(), "--scan-ppgtt-batches", "");
        assertThat(daemon.exitCode()).isEqualTo(2);
        assertThat(daemon.err()).contains("'' is not an engine");
        CliRun qemu = CliRun.of("qemu", "--connect", dir.resolve("x.sock").toString(), "--scan-ppgtt-batches", "all");
        assertThat(qemu.exitCode()).isEqualTo(2);
        assertThat(qemu.err()).contains("with --connect, give them to gvt serve");
    }

    @Test
    void aFileSystemErrorWithoutAReasonSaysWhatHappened() {
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine commandLine = Main.commandLine();
        commandLine.setErr(new java.io.PrintWriter(err, true));
        int code = new ErrorHandler().handleExecutionException(new java.nio.file.FileAlreadyExistsException("out"),
                commandLine.getSubcommands().get("demo"), null);
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("gvt demo: out: already exists" + System.lineSeparator());
    }
}
