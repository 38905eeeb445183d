package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jgvt.guest.Picture;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gvt demo} as a user runs it: exit code, summary.json, and the PNGs decoded and checked. */
final class DemoIT {
    @TempDir
    Path out;

    @Test
    void everyGuestSeesCorrectResultsAndThePngsShowWhatItDrew() throws Exception {
        Distribution.Result result = Distribution.gvt("demo", "--vgpus", "3", "--frames", "6", "--size", "200x120",
                "--out", out.toString());
        assertThat(result.exitCode()).as(result.out() + result.err()).isZero();
        assertThat(result.out()).contains("Every guest saw correct results.").doesNotContain("Not built yet");

        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(summary.get("ok").asBoolean()).isTrue();
        assertThat(summary.get("vgpus")).hasSize(3);
        for (JsonNode vgpu : summary.get("vgpus")) {
            int id = vgpu.get("vgpu").asInt();
            assertThat(vgpu.get("frames").asInt()).isEqualTo(6);
            assertThat(vgpu.get("flipsCompleted").asInt()).isEqualTo(6);
            assertThat(vgpu.get("msisDelivered").asLong()).isGreaterThanOrEqualTo(6);
            assertThat(vgpu.get("pixelMismatches").asLong()).isZero();
            assertThat(vgpu.get("pixelsChecked").asLong()).isEqualTo(200 * 120);
            // 16 page-table entries rewritten per frame after the PPGTT was announced: each one a trap
            assertThat(vgpu.get("ppgttWritesTrapped").asLong()).isGreaterThanOrEqualTo(16 * 6);
            assertThat(vgpu.get("errors")).isEmpty();
            // every frame: one ELSP submission per engine, two contexts on the render engine
            assertThat(vgpu.get("submissions").asLong()).isEqualTo(4 * 6);
            assertThat(vgpu.get("contextsCompleted").get("RCS").asLong()).isEqualTo(2 * 6);
            for (String engine : new String[] {"BCS", "VCS0", "VECS"}) {
                assertThat(vgpu.get("contextsCompleted").get(engine).asLong()).as(engine).isEqualTo(6);
            }
            assertThat(vgpu.get("workloadsCompleted").asLong()).isEqualTo(5 * 6);
            assertThat(vgpu.get("valuesChecked").asLong()).isPositive();
            assertThat(vgpu.get("valueMismatches").asLong()).isZero();
            assertThat(vgpu.get("blitPixelsChecked").asLong()).isEqualTo(6L * 200 * 120);
            assertThat(vgpu.get("blitPixelMismatches").asLong()).isZero();
            assertThat(vgpu.get("bytesScanned").asLong()).isPositive();
            assertThat(vgpu.get("scanMBps").asDouble()).isPositive();
            assertThat(vgpu.get("commandsScanned").asLong()).isGreaterThanOrEqualTo(vgpu.get("workloadsCompleted").asLong());
            assertThat(vgpu.get("rejectedWorkloads").asLong()).isZero();
            assertThat(vgpu.get("hungWorkloads").asLong()).isZero();

            BufferedImage png = ImageIO.read(out.resolve("vgpu-" + id + ".png").toFile());
            assertThat(png.getWidth()).isEqualTo(200);
            assertThat(png.getHeight()).isEqualTo(120);
            for (int y = 0; y < 120; y += 7) {
                for (int x = 0; x < 200; x += 5) {
                    assertThat(png.getRGB(x, y) & 0xFF_FFFF).as("vGPU %d pixel (%d,%d)", id, x, y)
                            .isEqualTo(Picture.pixel(id, 5, 200, 120, x, y));
                }
            }
        }
    }

    @Test
    void theXenPluginRunsTheSameGuestOnItsEmulatedXenAndSaysSo() throws Exception {
        Distribution.Result result = Distribution.gvt("demo", "--vgpus", "1", "--frames", "3", "--size", "64x48",
                "--hypervisor", "xen", "--out", out.toString());
        assertThat(result.exitCode()).as(result.out() + result.err()).isZero();
        assertThat(result.out()).contains("plugin 'xen'").contains("emulated");
        JsonNode vgpu = new ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("vgpus").get(0);
        assertThat(vgpu.get("pixelMismatches").asLong()).isZero();
        assertThat(vgpu.get("ppgttWritesTrapped").asLong()).isGreaterThanOrEqualTo(16 * 3);
        assertThat(vgpu.get("valueMismatches").asLong()).isZero();
        assertThat(vgpu.get("blitPixelMismatches").asLong()).isZero();
        assertThat(vgpu.get("errors")).isEmpty();
    }

    @Test
    void badOptionsAreRejectedWithWhatWasWrong() throws Exception {
        Distribution.Result tooMany = Distribution.gvt("demo", "--vgpus", "9", "--out", out.toString());
        assertThat(tooMany.exitCode()).isEqualTo(2);
        assertThat(tooMany.err()).contains("--vgpus must be 1..7, not 9");

        Path unused = out.resolve("unused");
        Distribution.Result moreThanFit = Distribution.gvt("demo", "--vgpus", "6", "--out", unused.toString());
        assertThat(moreThanFit.exitCode()).isEqualTo(2);
        assertThat(moreThanFit.err()).isEqualTo("gvt demo: INVALID_ARGUMENT: --vgpus 6: only 5 vGPUs of type GVTg_V5_4 fit on"
                + " this host (see gvt types)" + System.lineSeparator());
        assertThat(moreThanFit.out()).isEmpty();

        Distribution.Result largerThanTheType = Distribution.gvt("demo", "--type", "GVTg_V5_8", "--size", "1280x720",
                "--out", unused.toString());
        assertThat(largerThanTheType.exitCode()).isEqualTo(2);
        assertThat(largerThanTheType.err()).contains("--size 1280x720 is larger than the display of type GVTg_V5_8 (1024x768)");
        assertThat(unused).as("a run that does not start writes nothing").doesNotExist();

        Distribution.Result badSize = Distribution.gvt("demo", "--size", "10x10", "--out", out.toString());
        assertThat(badSize.exitCode()).isEqualTo(2);
        assertThat(badSize.err()).contains("--size must be WxH");

        Distribution.Result badType = Distribution.gvt("demo", "--type", "GVTg_V9_1", "--out", out.toString());
        assertThat(badType.exitCode()).isEqualTo(2);
        assertThat(badType.err()).contains("GVTg_V9_1");
        assertThat(badType.out()).as("no banner for a run that does not start").isEmpty();

        Distribution.Result badPlugin = Distribution.gvt("demo", "--hypervisor", "kvm-vfio", "--frames", "1", "--out", out.toString());
        assertThat(badPlugin.exitCode()).isEqualTo(2);
        assertThat(badPlugin.out()).isEmpty();
        assertThat(badPlugin.err()).isEqualTo("gvt demo: INVALID_ARGUMENT: kvm-vfio serves a vGPU to a VMM on a vfio-user socket"
                + " (gvt serve), not to an in-process guest (vGPU vgpu1)" + System.lineSeparator());
    }

    @Test
    void aSignalStopsTheGuestsAfterTheirFrameAndWhatTheyShowedIsStillCheckedAndWritten() throws Exception {
        Process demo = Distribution.start("demo", "--vgpus", "2", "--seconds", "60", "--size", "64x48", "--out", out.toString());
        String banner = demo.inputReader().readLine();
        assertThat(banner).startsWith("jgvt demo: 2 x GVTg_V5_4");
        Thread.sleep(1500);
        demo.toHandle().destroy(); // SIGTERM (Process.destroy would close the pipes); Ctrl-C (SIGINT) takes the same path
        assertThat(demo.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("stopped within 30 s").isTrue();
        String rest = new String(demo.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String err = new String(demo.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

        assertThat(demo.exitValue()).isEqualTo(143);
        assertThat(err).contains("gvt demo: stopped by a signal");
        assertThat(rest).as(err).contains("Every guest saw correct results.");
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(summary.get("ok").asBoolean()).isTrue();
        for (JsonNode vgpu : summary.get("vgpus")) {
            assertThat(vgpu.get("frames").asInt()).isPositive();
            assertThat(vgpu.get("pixelMismatches").asLong()).isZero();
        }
    }
}
