package dev.jgvt.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.host.HostBuffer;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.sim.GpuAddressSpace;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.sim.TestGuest;
import dev.jgvt.sim.engine.Completion;
import dev.jgvt.sim.engine.SimEngines;
import dev.jgvt.sim.engine.Submission;
import dev.jgvt.spi.AttachRequest;
import dev.jgvt.spi.DeviceLayout;
import dev.jgvt.spi.DeviceModel;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.Hypervisor;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the CPU writes through a fenced GTT mapping is what the GPU reads from the object: the guest writes a
 * linear picture through the aperture over an X- or Y-fenced range (the core detiles it into the guest's
 * pages), then a blit on the software GPU reads the object through the shadow GGTT as a tiled source and
 * writes it linear into another range of the vGPU's graphics memory; the guest finds its picture there. The
 * core's fence tiling and the software GPU's blitter tiling are written independently; this test makes them
 * agree. The unfenced aperture reads back the object's raw (tiled) bytes.
 */
final class FencedApertureCoherenceTest {
    private static final long RAM = 16L << 20;
    private static final int PAGES = 8;
    private static final int PITCH = 1024;
    private static final int ROWS = PAGES * 4096 / PITCH;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void aBlitReadsWhatTheCpuWroteThroughAnXFence(@TempDir Path plugins) {
        run(plugins, false);
    }

    @Test
    void aBlitReadsWhatTheCpuWroteThroughAYFence(@TempDir Path plugins) {
        run(plugins, true);
    }

    private static void run(Path plugins, boolean y) {
        try (SimGpu gpu = new SimGpu(SimGpuConfig.GEN9); TestGuest guest = new TestGuest(RAM);
                Gvt gvt = Gvt.start(GvtConfig.of(plugins), gpu)) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            gvt.attach(vgpu.id(), "test", new Hypervisor() {
                @Override
                public GuestBinding attach(AttachRequest request, DeviceModel device) {
                    return guest.binding();
                }

                @Override
                public void close() {}
            }, new AttachRequest.InProcess("guest", RAM));
            long object = vgpu.partition().aperture().base();
            long copy = object + PAGES * 4096L;
            // The object's pages and the copy's pages: guest pages at 4 MiB and 5 MiB, in reverse order.
            for (int i = 0; i < PAGES; i++) {
                ggtt(vgpu, object + i * 4096L, 0x40_0000L + (PAGES - 1 - i) * 4096L);
                ggtt(vgpu, copy + i * 4096L, 0x50_0000L + (PAGES - 1 - i) * 4096L);
            }
            int fence = Gen9Registers.FENCE_BASE;
            vgpu.write(DeviceLayout.BAR0, fence, 4, 0);
            vgpu.write(DeviceLayout.BAR0, fence + 4, 4, (object + PAGES * 4096L - 4096) | (PITCH / 128 - 1));
            vgpu.write(DeviceLayout.BAR0, fence, 4, object | (y ? 2 : 0) | 1);

            for (int offset = 0; offset < PAGES * 4096; offset += 4) {
                vgpu.write(DeviceLayout.BAR2, object + offset, 4, pixel(offset));
            }
            // Row 8, byte 0 is the first byte of the second tile row (X) / byte 128 of row 0 (Y): hand-computed.
            int tiledOffset = y ? 4096 : 2 * 4096;
            int linearOffset = y ? 128 : 8 * PITCH;
            vgpu.write(DeviceLayout.BAR0, fence, 4, 0);
            assertThat(vgpu.read(DeviceLayout.BAR2, object + tiledOffset, 4))
                    .as("the unfenced view holds the tiled bytes").isEqualTo(pixel(linearOffset) & 0xFFFFFFFFL);

            // BCS: BCS_SWCTRL (source Y or not), then XY_SRC_COPY_BLT from the tiled object to the linear copy.
            HostBuffer ring = gpu.allocate(4096, "ring");
            int ringIndex = 0x100; // in the host's own low graphics memory
            gpu.ggttWrite(ringIndex, ring.deviceAddress() | 3);
            int[] cmds = {
                0x22 << 23 | 1, 0x22200, 3 << 16 | (y ? 1 : 0),
                2 << 29 | 0x53 << 22 | 3 << 20 | 1 << 15 | 8, 3 << 24 | 0xCC << 16 | PITCH, 0, ROWS << 16 | PITCH / 4,
                (int) copy, (int) (copy >>> 32), 0, PITCH / 4, (int) object, (int) (object >>> 32),
                0, 0, 0};
            for (int i = 0; i < cmds.length; i++) {
                ring.segment().set(LE_INT, 4L * i, cmds[i]);
            }
            Completion done = new SimEngines(gpu).submit(new Submission(Engine.BCS, (long) ringIndex << 12, 4096, 0,
                    4 * cmds.length, GpuAddressSpace.GGTT, Submission.DEFAULT_MAX_COMMANDS));
            assertThat(done.completed()).as(done.toString()).isTrue();

            for (int offset = 0; offset < PAGES * 4096; offset += 4) {
                long gpa = 0x50_0000L + (PAGES - 1 - offset / 4096) * 4096L + offset % 4096;
                int got = (int) guest.readLong(gpa);
                if (got != pixel(offset)) {
                    assertThat(got).as("linear copy at byte %d", offset).isEqualTo(pixel(offset));
                }
            }
        }
    }

    private static int pixel(int offset) {
        return offset * 0x9E3779B1 ^ 0x5A5A5A5A;
    }

    private static void ggtt(Vgpu vgpu, long gm, long gpa) {
        vgpu.write(DeviceLayout.BAR0, MmioSpace.GGTT_WINDOW_OFFSET + (gm >>> 12) * 8, 8, gpa | GttEntry.PRESENT);
    }

}
