package dev.jgvt.core.vgpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jgvt.core.mmio.Gen9Registers;
import dev.jgvt.core.mmio.MmioSpace;
import dev.jgvt.spi.DeviceLayout;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CPU access through the aperture honours the vGPU's fence registers: a write through a fenced range lands in
 * the guest pages at the tiled position (hand-computed here from the tile geometry), reads through the fence
 * give it back, and the unfenced (linear) view of the same pages shows the tiled bytes.
 */
final class FencedApertureTest {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int PAGES = 16;
    private static final long RAM_BASE = 0x10_0000;

    private final VgpuManager manager = new VgpuManager(HostGeometry.defaults(), new ManualClock());
    private Vgpu vgpu;
    private FakeBinding guest;
    private long base;

    @BeforeEach
    void create() {
        manager.create("GVTg_V5_8");
        vgpu = manager.create("GVTg_V5_4");
        guest = new FakeBinding(4 << 20);
        TestAttachment.attach(vgpu, guest);
        vgpu.activate();
        base = vgpu.partition().aperture().base();
        // Aperture page i -> guest page (PAGES - 1 - i): graphics-contiguous, not guest-contiguous.
        for (int i = 0; i < PAGES; i++) {
            vgpu.write(DeviceLayout.BAR0, MmioSpace.GGTT_WINDOW_OFFSET + ((base >>> 12) + i) * 8, 8, gpaOfPage(i) | 1);
        }
    }

    private static long gpaOfPage(int page) {
        return RAM_BASE + (PAGES - 1 - page) * 4096L;
    }

    /** The guest physical address of byte {@code offset} of the aperture range starting at {@code base}. */
    private static long gpa(long offset) {
        return gpaOfPage((int) (offset >>> 12)) + (offset & 0xFFF);
    }

    /** Programs fence {@code index} as i915 does: off, high dword, then low dword with the valid bit. */
    private void fence(int index, long start, long size, int pitch, boolean y) {
        int at = Gen9Registers.FENCE_BASE + 8 * index;
        vgpu.write(DeviceLayout.BAR0, at, 4, 0);
        vgpu.write(DeviceLayout.BAR0, at + 4, 4, (start + size - 4096) | (pitch / 128 - 1));
        vgpu.write(DeviceLayout.BAR0, at, 4, start | (y ? 2 : 0) | 1);
    }

    private void fenceOff(int index) {
        vgpu.write(DeviceLayout.BAR0, Gen9Registers.FENCE_BASE + 8 * index, 4, 0);
    }

    private void cpuWrite(long offset, int size, long value) {
        vgpu.write(DeviceLayout.BAR2, base + offset, size, value);
    }

    private long cpuRead(long offset, int size) {
        return vgpu.read(DeviceLayout.BAR2, base + offset, size);
    }

    @Test
    void anXFencedWriteLandsAtTheTiledOffset() {
        // 4 pages, pitch 1024 (two X tiles per tile row), so 16 rows. Byte (600, 9):
        // tile row 9/8 = 1 -> 8 * 1024; tile column 600/512 = 1 -> 4096; row in tile 1 -> 512; 600 % 512 = 88.
        fence(0, base, 4 * 4096, 1024, false);
        cpuWrite(9 * 1024 + 600, 4, 0xA1B2C3D4L);
        assertThat(guest.ram.get(LE_INT, gpa(8192 + 4096 + 512 + 88))).isEqualTo(0xA1B2C3D4);
        assertThat(cpuRead(9 * 1024 + 600, 4)).isEqualTo(0xA1B2C3D4L);
        // Byte (0, 0) is the first byte of the range; byte (512, 0) starts the second tile; (0, 8) the third.
        cpuWrite(0, 4, 0x11);
        cpuWrite(512, 4, 0x22);
        cpuWrite(8 * 1024, 4, 0x33);
        assertThat(guest.ram.get(LE_INT, gpa(0))).isEqualTo(0x11);
        assertThat(guest.ram.get(LE_INT, gpa(4096))).isEqualTo(0x22);
        assertThat(guest.ram.get(LE_INT, gpa(8192))).isEqualTo(0x33);

        fenceOff(0);
        assertThat(cpuRead(8192 + 4096 + 512 + 88, 4)).as("the linear view shows the tiled bytes").isEqualTo(0xA1B2C3D4L);
        assertThat(cpuRead(512, 4)).as("(512, 0) is not at linear 512 without the fence").isZero();
    }

    @Test
    void aYFencedWriteLandsAtTheTiledOffset() {
        // Fence 1 over pages 4..7, pitch 256 (two Y tiles per tile row), so 64 rows. Byte (200, 37):
        // tile row 37/32 = 1 -> 32 * 256; tile column 200/128 = 1 -> 4096; OWORD column (200 % 128)/16 = 4 -> 4 * 512;
        // row in tile 37 % 32 = 5 -> 5 * 16; 200 % 16 = 8.
        long start = 4 * 4096;
        fence(1, base + start, 4 * 4096, 256, true);
        cpuWrite(start + 37 * 256 + 200, 4, 0x0BADF00DL);
        assertThat(guest.ram.get(LE_INT, gpa(start + 8192 + 4096 + 2048 + 80 + 8))).isEqualTo(0x0BADF00D);
        // Row 1 of a Y tile is 16 bytes after row 0; byte 16 of row 0 is the next column, 512 bytes on.
        cpuWrite(start + 256, 4, 0x44);
        cpuWrite(start + 16, 4, 0x55);
        assertThat(guest.ram.get(LE_INT, gpa(start + 16))).isEqualTo(0x44);
        assertThat(guest.ram.get(LE_INT, gpa(start + 512))).isEqualTo(0x55);
        // Outside the fence the aperture stays linear.
        cpuWrite(8 * 4096 + 16, 4, 0x66);
        assertThat(guest.ram.get(LE_INT, gpa(8 * 4096 + 16))).isEqualTo(0x66);
    }

    @Test
    void anAccessThatTheTilingScattersIsSplitByteByByte() {
        fence(0, base, 4 * 4096, 128, true); // one Y tile per tile row
        // Bytes 12..19 of row 0: 12..15 end column 0, 16..19 begin column 1 (512 bytes on).
        cpuWrite(12, 8, 0x8877665544332211L);
        assertThat(guest.ram.get(LE_INT, gpa(12))).isEqualTo(0x44332211);
        assertThat(guest.ram.get(LE_INT, gpa(512))).isEqualTo(0x88776655);
        assertThat(cpuRead(12, 8)).isEqualTo(0x8877665544332211L);
    }

    @Test
    void aFullRangeRoundTripsAndTheTilingIsAPermutation() {
        for (boolean y : new boolean[] {false, true}) {
            // 12 pages of three tiles per tile row (X: pitch 1536, Y: 384): four whole tile rows, as i915 sizes fences
            int bytes = 12 * 4096;
            fence(2, base, bytes, y ? 384 : 1536, y);
            for (int offset = 0; offset < bytes; offset += 4) {
                cpuWrite(offset, 4, offset);
            }
            for (int offset = 0; offset < bytes; offset += 4) {
                assertThat(cpuRead(offset, 4)).isEqualTo(offset);
            }
            fenceOff(2);
            Set<Long> seen = new HashSet<>();
            for (int offset = 0; offset < bytes; offset += 4) {
                seen.add(cpuRead(offset, 4));
            }
            assertThat(seen).as(y ? "Y" : "X").hasSize(bytes / 4);
        }
    }

    @Test
    void fencesBeyondTheVgpusOwnAreIgnored() {
        int count = vgpu.partition().fenceCount();
        fence(count, base, 4 * 4096, 1024, false);
        assertThat(vgpu.fence(count)).isEmpty();
        assertThat(vgpu.read(DeviceLayout.BAR0, Gen9Registers.FENCE_BASE + 8L * count, 4)).isZero();
        cpuWrite(512, 4, 0x77);
        assertThat(guest.ram.get(LE_INT, gpa(512))).as("still linear").isEqualTo(0x77);
    }

    @Test
    void aFenceReachingPastTheSliceCannotMoveAnAccessOutOfIt() {
        long size = vgpu.partition().aperture().size();
        // A fence over the slice's last page and the page after it (not the vGPU's), two Y tiles wide: byte
        // (128, 0) is in the slice for the CPU, but the tiling keeps it in the second tile, beyond the slice.
        fence(0, base + size - 4096, 2 * 4096, 256, true);
        long beforeDrops = vgpu.unhandledAccesses();
        cpuWrite(size - 4096 + 128, 4, 0x99);
        assertThat(vgpu.unhandledAccesses()).isGreaterThan(beforeDrops);
    }

    @Test
    void fencedAccessesDoNotAllocate() {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeTrue(bean instanceof com.sun.management.ThreadMXBean tb && tb.isThreadAllocatedMemorySupported(),
                "per-thread allocation counting is not supported by this JVM");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        fence(0, base, 4 * 4096, 1024, false);
        fence(1, base + 4 * 4096, 4 * 4096, 256, true);
        int rounds = 100_000;
        run(rounds);
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        run(rounds);
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertThat(allocated).as("bytes allocated over %d accesses", rounds * 6L).isLessThan(64 * 1024);
    }

    private void run(int rounds) {
        long sum = 0;
        for (int i = 0; i < rounds; i++) {
            int offset = (i * 52) & 0x3FFC;
            cpuWrite(offset, 4, i);
            sum += cpuRead(offset, 4);
            cpuWrite(4 * 4096 + offset, 4, i);
            sum += cpuRead(4 * 4096 + offset, 4);
            cpuWrite(12 * 4096 + offset, 8, i); // unfenced
            sum += cpuRead(4 * 4096 + (offset | 12), 8); // Y-scattered
        }
        assertThat(sum).isNotZero();
    }
}
