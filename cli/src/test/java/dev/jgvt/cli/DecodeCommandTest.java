package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class DecodeCommandTest {
    @TempDir
    Path dir;

    static Path write(Path dir, String name, int... dws) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4 * dws.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int dw : dws) {
            buf.putInt(dw);
        }
        Path file = dir.resolve(name);
        Files.write(file, buf.array());
        return file;
    }

    @Test
    void printsOneLinePerCommand() throws IOException {
        Path file = write(dir, "rcs.bin", 0, 0x11000001, 0x7000, 1, 0x7A000004, 0, 0, 0, 0, 0, 0x69040000,
                0x05000000);
        CliRun run = CliRun.of("decode", "--engine", "rcs", file.toString());
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo("""
                0x00000000 MI_NOOP 1
                0x00000004 MI_LOAD_REGISTER_IMM 3
                0x00000010 PIPE_CONTROL 6
                0x00000028 PIPELINE_SELECT 1
                0x0000002c MI_BATCH_BUFFER_END 1
                """);
    }

    @Test
    void unknownCommandsStopDecodingWithAnError() throws IOException {
        Path file = write(dir, "bad.bin", 0, 0x54C00008, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        CliRun run = CliRun.of("decode", "--engine", "rcs", file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEqualTo("0x00000000 MI_NOOP 1\n0x00000004 UNKNOWN\n");
        assertThat(run.err()).contains("unknown command 0x54c00008 at byte 0x4 for rcs");
        CliRun bcs = CliRun.of("decode", "--engine", "bcs", file.toString());
        assertThat(bcs.exitCode()).isZero();
        assertThat(bcs.out()).endsWith("0x00000004 XY_SRC_COPY_BLT 10\n");
    }

    @Test
    void truncatedCommandsAreErrors() throws IOException {
        Path file = write(dir, "short.bin", 0x11000003, 0x7000, 1);
        CliRun run = CliRun.of("decode", "--engine", "vecs", file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).isEqualTo("0x00000000 MI_LOAD_REGISTER_IMM 5\n");
        assertThat(run.err()).contains("runs past the end");
    }

    @Test
    void jsonOutput() throws IOException {
        Path file = write(dir, "v.bin", 0x73800000, 0, 0x68000000, 0x70000003);
        CliRun run = CliRun.of("decode", "--engine", "vcs", "--json", file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out().strip()).isEqualTo("{\"engine\":\"vcs\",\"commands\":["
                + "{\"offset\":0,\"name\":\"HCP_PIPE_MODE_SELECT\",\"length\":2},"
                + "{\"offset\":8,\"name\":\"MFX_WAIT\",\"length\":1},"
                + "{\"offset\":12,\"name\":\"MFX_PIPE_MODE_SELECT\",\"length\":5}],\"status\":\"truncated\","
                + "\"error\":\"the command at byte 0xc runs past the end of the file (16 bytes)\"}");
        Path ok = write(dir, "ok.bin", 0x74000000, 0);
        CliRun vecs = CliRun.of("decode", "--engine", "vecs", "--json", ok.toString());
        assertThat(vecs.exitCode()).isZero();
        assertThat(vecs.out().strip()).isEqualTo("{\"engine\":\"vecs\",\"commands\":["
                + "{\"offset\":0,\"name\":\"VEBOX_SURFACE_STATE\",\"length\":2}],\"status\":\"complete\"}");
    }

    @Test
    void badEngineIsAUsageError() throws IOException {
        Path file = write(dir, "x.bin", 0);
        CliRun run = CliRun.of("decode", "--engine", "gpu", file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("unknown engine 'gpu'");
    }
}
