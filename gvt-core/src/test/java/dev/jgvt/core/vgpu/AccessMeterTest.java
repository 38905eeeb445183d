package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.spi.DeviceLayout;
import org.junit.jupiter.api.Test;

/** The per-region access counters gvt qemu reports for a guest's probe. */
final class AccessMeterTest {
    private final VgpuManager manager = new VgpuManager(HostGeometry.defaults(), new ManualClock());

    @Test
    void accessesAreCountedPerRegionAndDirectionAndTimedOnlyWhenAsked() {
        Vgpu vgpu = manager.create("GVTg_V5_4");
        TestAttachment.attach(vgpu, new FakeBinding(1 << 20));
        vgpu.activate();
        AccessCounts before = vgpu.accessCounts();
        vgpu.read(DeviceLayout.BAR0, 0x78000, 4);
        vgpu.read(DeviceLayout.BAR0, 0x1ff000, 4); // no register there: still counted
        vgpu.write(DeviceLayout.BAR0, 0x1ff000, 4, 1);
        vgpu.read(DeviceLayout.CONFIG, 0, 4);
        AccessCounts untimed = vgpu.accessCounts().minus(before);
        assertThat(untimed.reads(DeviceLayout.BAR0)).isEqualTo(2);
        assertThat(untimed.writes(DeviceLayout.BAR0)).isEqualTo(1);
        assertThat(untimed.reads(DeviceLayout.CONFIG)).isEqualTo(1);
        assertThat(untimed.writes(DeviceLayout.CONFIG)).isZero();
        assertThat(untimed.reads(DeviceLayout.BAR2)).isZero();
        assertThat(untimed.totalNanos()).as("timing is off by default").isZero();

        vgpu.accessMeter().timing(true);
        for (int i = 0; i < 100; i++) {
            vgpu.read(DeviceLayout.BAR0, 0x78000, 4);
        }
        AccessCounts timed = vgpu.accessCounts().minus(before);
        assertThat(timed.reads(DeviceLayout.BAR0)).isEqualTo(102);
        assertThat(timed.nanos(DeviceLayout.BAR0)).isPositive();
        assertThat(timed.nanos(DeviceLayout.CONFIG)).isZero();
        assertThat(timed.reads(99)).as("no such region").isZero();
    }
}
