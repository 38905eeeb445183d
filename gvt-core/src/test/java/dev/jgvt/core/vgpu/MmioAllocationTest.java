package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.core.pci.ConfigSpace;
import dev.jgvt.spi.DeviceLayout;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The trapped register path allocates nothing per access: counted with the JVM's per-thread allocation
 * counter over many accesses (a per-access allocation of even 16 bytes would show as megabytes).
 */
final class MmioAllocationTest {
    @Test
    void registerAccessesDoNotAllocate() {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean tb && tb.isThreadAllocatedMemorySupported(),
                "per-thread allocation counting is not supported by this JVM");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        VgpuManager manager = new VgpuManager(HostGeometry.defaults(), new ManualClock());
        Vgpu vgpu = manager.create("GVTg_V5_4");
        FakeBinding guest = new FakeBinding(4096);
        TestAttachment.attach(vgpu, guest);
        vgpu.write(DeviceLayout.CONFIG, ConfigSpace.MSI_CONTROL, 2, 1);
        vgpu.write(DeviceLayout.BAR0, 0x44304, 4, 0); // GT0 unmasked, enabled, master on: every IIR ack re-evaluates
        vgpu.write(DeviceLayout.BAR0, 0x4430C, 4, 0xFFFFFFFFL);
        vgpu.write(DeviceLayout.BAR0, 0x44200, 4, 1L << 31);
        int rounds = 200_000;
        run(vgpu, rounds); // warm up (class loading, JIT)
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        run(vgpu, rounds);
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        System.out.println("MmioAllocationTest: " + allocated + " bytes allocated over " + rounds * 8L + " accesses");
        assertThat(allocated).isLessThan(64 * 1024);
    }

    private static void run(Vgpu vgpu, int rounds) {
        long sum = 0;
        for (int i = 0; i < rounds; i++) {
            vgpu.write(DeviceLayout.BAR0, 0x2030, 4, i); // plain store
            sum += vgpu.read(DeviceLayout.BAR0, 0x2034, 4);
            vgpu.write(DeviceLayout.BAR0, Gen9Registers.FORCEWAKE_RENDER, 4, 0x10001); // handler
            sum += vgpu.read(DeviceLayout.BAR0, Gen9Registers.FORCEWAKE_ACK_RENDER, 4);
            vgpu.raise(dev.jgvt.core.irq.IrqEvent.RCS_USER_INTERRUPT); // event -> MSI
            vgpu.write(DeviceLayout.BAR0, 0x44308, 4, 1); // IIR ack
            sum += vgpu.read(DeviceLayout.BAR0, MmioSpace.GGTT_WINDOW_OFFSET + 8L * (i & 1023), 8);
            sum += vgpu.read(DeviceLayout.BAR0, 0x209C, 2);
        }
        assertThat(sum).isNotNegative();
    }
}
