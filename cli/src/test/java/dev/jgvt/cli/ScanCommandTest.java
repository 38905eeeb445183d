package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ScanCommandTest {
    private static final String APERTURE = "0x100000:0x100000";
    private static final String HIDDEN = "0x4000000:0x100000";

    @TempDir
    Path dir;

    private CliRun scan(String engine, int... dws) throws IOException {
        Path file = DecodeCommandTest.write(dir, "buf.bin", dws);
        return CliRun.of("scan", "--engine", engine, "--aperture", APERTURE, "--hidden", HIDDEN, file.toString());
    }

    @Test
    void acceptsAValidBuffer() throws IOException {
        CliRun run = scan("rcs", 0x11000001, 0x7000, 1, 0x10400002, 0x100040, 0, 7, 0x05000000);
        assertThat(run.out()).isEqualTo("accepted\n");
        assertThat(run.exitCode()).isZero();
    }

    @Test
    void namesTheRuleAndTheOffset() throws IOException {
        CliRun forbidden = scan("rcs", 0, 0, 0x11800001, 0, 0, 0x05000000);
        assertThat(forbidden.out()).isEqualTo("rejected: forbidden-command at 0x00000008\n");
        assertThat(forbidden.exitCode()).isEqualTo(2);
        assertThat(forbidden.err()).contains("MI_UPDATE_GTT");
        CliRun outside = scan("bcs", 0x10400002, 0x300000, 0, 7, 0x05000000);
        assertThat(outside.out()).isEqualTo("rejected: gm-out-of-range at 0x00000000\n");
        CliRun register = scan("vcs", 0, 0x11000001, 0x100000, 0, 0x05000000);
        assertThat(register.out()).isEqualTo("rejected: register-not-allowed at 0x00000004\n");
        CliRun noEnd = scan("vecs", 0, 0);
        assertThat(noEnd.out()).isEqualTo("rejected: gm-unmapped at 0x00001000\n");
    }

    @Test
    void ringModeAppliesTheRingOnlyRules() throws IOException {
        int[] secondLevel = {0x18c00001, 0x4000000, 0}; // MI_BATCH_BUFFER_START, second-level bit, GGTT
        Path file = DecodeCommandTest.write(dir, "ring.bin", secondLevel);
        CliRun asBatch = CliRun.of("scan", "--engine", "vcs", "--aperture", APERTURE, "--hidden", HIDDEN,
                file.toString());
        assertThat(asBatch.out()).as("legal in a batch (it reads the unmapped hidden range)")
                .isEqualTo("rejected: gm-unmapped at 0x00000000\n");
        CliRun asRing = CliRun.of("scan", "--ring", "--engine", "vcs", "--aperture", APERTURE, "--hidden", HIDDEN,
                file.toString());
        assertThat(asRing.out()).isEqualTo("rejected: 2nd-level-from-ring at 0x00000000\n");
        Path semaphore = DecodeCommandTest.write(dir, "sem.bin", 0x0e000002, 0, 0x1000, 0); // PPGTT poll
        CliRun sem = CliRun.of("scan", "--ring", "--engine", "vcs", "--aperture", APERTURE, "--hidden", HIDDEN,
                semaphore.toString());
        assertThat(sem.out()).isEqualTo("rejected: forbidden-command at 0x00000000\n");
        Path ok = DecodeCommandTest.write(dir, "ok.bin", 0x11000001, 0x7000, 1, 0);
        assertThat(CliRun.of("scan", "--ring", "--engine", "rcs", "--aperture", APERTURE, "--hidden", HIDDEN,
                ok.toString()).out()).isEqualTo("accepted\n");
    }

    @Test
    void badRangesAreUsageErrors() throws IOException {
        Path file = DecodeCommandTest.write(dir, "b.bin", 0x05000000);
        CliRun run = CliRun.of("scan", "--engine", "rcs", "--aperture", "0x100:0x1000", "--hidden", HIDDEN,
                file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("4 KiB aligned");
    }

    @Test
    void aFileThatIsNotWholeDwordsIsRejectedAsDecodeRejectsIt() throws IOException {
        Path file = java.nio.file.Files.write(dir.resolve("odd.bin"), new byte[] {0, 0, 0, 5, 0, 0});
        CliRun run = CliRun.of("scan", "--engine", "rcs", "--aperture", APERTURE, "--hidden", HIDDEN, file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("gvt scan: the file's size (6 bytes) is not a multiple of 4" + System.lineSeparator());
    }

    @Test
    void anEmptyFileIsRejectedByName() throws IOException {
        Path file = java.nio.file.Files.write(dir.resolve("empty.bin"), new byte[0]);
        CliRun run = CliRun.of("scan", "--engine", "rcs", "--aperture", APERTURE, "--hidden", HIDDEN, file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("empty.bin is empty");
    }

    @Test
    void rangesBeyondTheGgttAreRejected() throws IOException {
        Path file = DecodeCommandTest.write(dir, "b.bin", 0x05000000);
        CliRun run = CliRun.of("scan", "--engine", "rcs", "--aperture", APERTURE, "--hidden",
                "0xffffffffffff000:0x100000000000", file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("outside the 4 GiB GGTT");
    }
}
