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

/**
 * {@code gvt demo --hypervisor xen} off Xen: the guests run through the xen plugin's emulated Xen (ioreqs,
 * event channels, foreign maps), the output says so, and every guest passes the same result checks as on the
 * fake plugin: frames, flips, MSIs, trapped page-table writes, every pixel, no errors.
 */
final class XenDemoIT {
    @TempDir
    Path out;

    @Test
    void twoGuestsOnTheEmulatedXenPassTheFakePluginsChecks() throws Exception {
        int frames = 4;
        int width = 96;
        int height = 64;
        Distribution.Result result = Distribution.gvt("demo", "--vgpus", "2", "--frames", Integer.toString(frames),
                "--size", width + "x" + height, "--hypervisor", "xen", "--out", out.toString());

        assertThat(result.exitCode()).as(result.out() + result.err()).isZero();
        assertThat(result.out().lines().findFirst().orElseThrow())
                .contains("guests on plugin 'xen'")
                .contains("emulated in-process Xen, because Xen"); // "...not available (not a dom0)" or "...libraries not installed"
        assertThat(result.out()).contains("Every guest saw correct results.");

        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(summary.get("ok").asBoolean()).isTrue();
        assertThat(summary.get("vgpus")).hasSize(2);
        for (JsonNode vgpu : summary.get("vgpus")) {
            int id = vgpu.get("vgpu").asInt();
            assertThat(vgpu.get("hypervisor").asText()).isEqualTo("xen");
            assertThat(vgpu.get("frames").asInt()).isEqualTo(frames);
            assertThat(vgpu.get("flipsCompleted").asInt()).isEqualTo(frames);
            assertThat(vgpu.get("msisDelivered").asLong()).isGreaterThanOrEqualTo(frames);
            assertThat(vgpu.get("ppgttWritesTrapped").asLong()).isGreaterThanOrEqualTo(16L * frames);
            assertThat(vgpu.get("pixelsChecked").asLong()).isEqualTo((long) width * height);
            assertThat(vgpu.get("pixelMismatches").asLong()).isZero();
            assertThat(vgpu.get("errors")).isEmpty();

            BufferedImage png = ImageIO.read(out.resolve("vgpu-" + id + ".png").toFile());
            assertThat(png.getWidth()).isEqualTo(width);
            assertThat(png.getHeight()).isEqualTo(height);
            for (int y = 0; y < height; y += 5) {
                for (int x = 0; x < width; x += 3) {
                    assertThat(png.getRGB(x, y) & 0xFF_FFFF).as("vGPU %d pixel (%d,%d)", id, x, y)
                            .isEqualTo(Picture.pixel(id, frames - 1, width, height, x, y));
                }
            }
        }
    }
}
