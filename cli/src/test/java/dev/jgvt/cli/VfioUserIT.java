package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgvt.guest.Picture;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gvt serve} and {@code gvt vmm} as two processes of the distribution: the guest runs over vfio-user
 * (RAM as a memfd passed with DMA_MAP, MSI through an eventfd, page-table writes forwarded by the tracking
 * extension), and what the host scanned out is compared pixel by pixel with what the guest drew.
 */
final class VfioUserIT {
    @TempDir
    Path dir;

    @Test
    void aGuestInTheVmmProcessDrivesTheServedVgpuAndTheHostShowsWhatItDrew() throws Exception {
        Path socket = dir.resolve("vgpu.sock");
        Path outDir = dir.resolve("serve-out");
        Path serveOut = dir.resolve("serve.out");
        Path serveErr = dir.resolve("serve.err");
        Process serve = Distribution.start(serveOut, serveErr, "serve", "--socket", socket.toString(), "--out", outDir.toString());
        try {
            Distribution.awaitLine(serve, serveOut, serveErr, "Stop with");
            // two VMMs in sequence: the first without page tracking, the second with it
            Distribution.Result first = Distribution.gvt("vmm", "--socket", socket.toString(), "--frames", "3", "--size", "160x96",
                    "--index", "2", "--ram", "64M", "--no-page-tracking", "--hold-ms", "0");
            assertThat(first.exitCode()).as(first.out() + first.err()).isZero();
            assertThat(first.out()).contains("page tracking off").contains("The guest saw correct results.");

            Distribution.Result vmm = Distribution.gvt("vmm", "--socket", socket.toString(), "--frames", "6", "--size", "200x120",
                    "--index", "3", "--ram", "64M", "--hold-ms", "500");
            assertThat(vmm.exitCode()).as(vmm.out() + vmm.err()).isZero();
            assertThat(vmm.out()).contains("page tracking negotiated").contains("The guest saw correct results.");
            Matcher m = Pattern.compile("frames=(\\d+) flips=(\\d+) msis=(\\d+).*lastFrame=(\\d+)").matcher(vmm.out());
            assertThat(m.find()).as(vmm.out()).isTrue();
            assertThat(Integer.parseInt(m.group(1))).isEqualTo(6);
            assertThat(Integer.parseInt(m.group(2))).isEqualTo(6);
            assertThat(Long.parseLong(m.group(3))).isGreaterThanOrEqualTo(6);
            int lastFrame = Integer.parseInt(m.group(4));
            assertThat(lastFrame).isEqualTo(5);
        } finally {
            serve.destroy(); // SIGTERM
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).as("gvt serve stops on SIGTERM").isTrue();
        }
        assertThat(Files.readString(serveOut)).contains("gvt serve: stopped");
        assertThat(socket).as("the socket is removed on stop").doesNotExist();

        JsonNode summary = new ObjectMapper().readTree(outDir.resolve("serve.json").toFile());
        assertThat(summary.get("trackedWrites").asLong()).as("PPGTT writes trapped over the wire: %s", summary).isPositive();
        assertThat(summary.get("failsafe").asBoolean()).isFalse();
        BufferedImage png = ImageIO.read(Path.of(summary.get("png").asText()).toFile());
        assertThat(png.getWidth()).isEqualTo(200);
        assertThat(png.getHeight()).isEqualTo(120);
        for (int y = 0; y < 120; y++) {
            for (int x = 0; x < 200; x++) {
                assertThat(png.getRGB(x, y) & 0xFF_FFFF).as("pixel (%d,%d)", x, y).isEqualTo(Picture.pixel(3, 5, 200, 120, x, y));
            }
        }
    }

    @Test
    void aSecondVmmIsToldAtOnceThatTheServerIsBusyAndAStoppedServerIsOneLineToTheVmm() throws Exception {
        Path socket = dir.resolve("busy.sock");
        Process serve = Distribution.start(dir.resolve("serve.out"), dir.resolve("serve.err"), "serve", "--socket", socket.toString());
        try {
            Distribution.awaitLine(serve, dir.resolve("serve.out"), dir.resolve("serve.err"), "Stop with");
            Path firstOut = dir.resolve("first.out");
            Path firstErr = dir.resolve("first.err");
            Process first = Distribution.start(firstOut, firstErr, "vmm", "--socket", socket.toString(), "--frames", "2", "--size", "160x96",
                    "--ram", "64M", "--hold-ms", "8000");
            try {
                Distribution.awaitLine(first, firstOut, firstErr, "connected to");
                long start = System.nanoTime();
                Distribution.Result second = Distribution.gvt("vmm", "--socket", socket.toString(), "--ram", "64M");
                assertThat(System.nanoTime() - start).as("refused at once").isLessThan(TimeUnit.SECONDS.toNanos(8));
                assertThat(second.exitCode()).as(second.out() + second.err()).isEqualTo(3);
                assertThat(second.err().strip()).isEqualTo("gvt vmm: the server at " + socket + " is serving another VMM");
                assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(first.exitValue()).as(Files.readString(firstOut) + Files.readString(firstErr)).isZero();
                assertThat(Files.readString(firstOut)).contains("The guest saw correct results.");
            } finally {
                first.destroyForcibly();
            }

            // gvt serve stops under a running VMM: the VMM says the connection is gone, and nothing else
            Path longOut = dir.resolve("long.out");
            Path longErr = dir.resolve("long.err");
            Process running = Distribution.start(longOut, longErr, "vmm", "--socket", socket.toString(), "--frames", "100000", "--size", "160x96",
                    "--ram", "64M", "--hold-ms", "0");
            try {
                Distribution.awaitLine(running, longOut, longErr, "connected to");
                Thread.sleep(1500);
                serve.destroy(); // SIGTERM
                assertThat(running.waitFor(60, TimeUnit.SECONDS)).isTrue();
                String out = Files.readString(longOut);
                String err = Files.readString(longErr).strip();
                assertThat(running.exitValue()).as(out + err).isEqualTo(1);
                assertThat(err).as(out + err).isEqualTo("gvt vmm: the connection to the server at " + socket
                        + " is gone: the server closed it");
                assertThat(out).doesNotContain("GGTT").doesNotContain("WRONG RESULTS");
            } finally {
                running.destroyForcibly();
            }
        } finally {
            serve.destroy();
            assertThat(serve.waitFor(30, TimeUnit.SECONDS)).as("gvt serve stops on SIGTERM").isTrue();
        }
    }

    @Test
    void badOptionsAreOneLineWithExitCode2() throws Exception {
        Path existing = Files.createFile(dir.resolve("taken.sock"));
        Distribution.Result taken = Distribution.gvt("serve", "--socket", existing.toString());
        assertThat(taken.exitCode()).isEqualTo(2);
        assertThat(taken.err().strip()).contains("exists").doesNotContain("\n");

        Distribution.Result noDir = Distribution.gvt("serve", "--socket", dir.resolve("no/such/dir.sock").toString());
        assertThat(noDir.exitCode()).isEqualTo(2);
        assertThat(noDir.err().strip()).contains("does not exist").doesNotContain("\n");

        // a directory where bind fails whoever runs it (procfs): the path is what cannot be used
        Distribution.Result noBind = Distribution.gvt("serve", "--socket", "/proc/jgvt-it.sock");
        assertThat(noBind.exitCode()).as(noBind.out() + noBind.err()).isEqualTo(2);
        assertThat(noBind.err().strip()).contains("/proc/jgvt-it.sock").doesNotContain("\n");

        Distribution.Result badType = Distribution.gvt("serve", "--socket", dir.resolve("t.sock").toString(), "--type", "GVTg_V9_9");
        assertThat(badType.exitCode()).isEqualTo(2);
        assertThat(badType.err().strip()).contains("GVTg_V9_9").doesNotContain("\n");
        assertThat(dir.resolve("t.sock")).doesNotExist();

        Distribution.Result noServer = Distribution.gvt("vmm", "--socket", dir.resolve("nobody.sock").toString());
        assertThat(noServer.exitCode()).isEqualTo(2);
        assertThat(noServer.err().strip()).contains("no socket").doesNotContain("\n");

        Distribution.Result badRam = Distribution.gvt("vmm", "--socket", existing.toString(), "--ram", "12Q");
        assertThat(badRam.exitCode()).isEqualTo(2);
        assertThat(badRam.err().strip()).contains("--ram").doesNotContain("\n");
    }
}
