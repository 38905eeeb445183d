package dev.jgvt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.engine.AttachedVgpu;
import dev.jgvt.core.engine.Gvt;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.core.exec.ExecStats;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.guest.FrameAllocator;
import dev.jgvt.guest.GmAllocator;
import dev.jgvt.guest.GuestDisplay;
import dev.jgvt.guest.GuestInterrupts;
import dev.jgvt.guest.GuestPlatform;
import dev.jgvt.guest.PciDevice;
import dev.jgvt.guest.Ppgtt;
import dev.jgvt.guest.PvInfo;
import dev.jgvt.sim.SimGpu;
import dev.jgvt.sim.SimGpuConfig;
import dev.jgvt.spi.AttachRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The host side of command submission end to end, driven by a minimal guest written here from the hardware
 * contract (ELSP, logical ring context, CSB in the status page): ELSP → workload → scan → execution on the
 * software GPU → RING_HEAD write-back, CSB events and the context-switch MSI; and what a misbehaving guest gets.
 */
final class SubmissionIT {
    private static final long RAM = 64L << 20;
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int RCS = 0x2000;
    private static final int BCS = 0x22000;
    private static final int MI_STORE_DATA_IMM_GGTT = 0x1040_0002;
    private static final int MI_STORE_DATA_IMM_PPGTT = 0x1000_0002;
    private static final int MI_USER_INTERRUPT = 0x0100_0000;
    private static final long PPGTT_RESULTS = 0x1000_0000L;

    private final SimGpu gpu = new SimGpu(SimGpuConfig.GEN9);

    @AfterEach
    void closeGpu() {
        gpu.close();
    }

    private Gvt engine() {
        return Gvt.start(GvtConfig.of(Distribution.home().resolve("plugins")), gpu);
    }

    /** A guest with one execlist context per engine it uses. */
    private static final class MiniGuest {
        final GuestPlatform platform;
        final GmAllocator gm;
        final FrameAllocator frames = new FrameAllocator(1 << 20, RAM);
        final GuestDisplay ggtt;
        final Ppgtt ppgtt;
        final long resultsGma;
        final long resultsGpa;
        final long ppgttResultsGpa;
        int nextContextId = 1;

        MiniGuest(GuestPlatform platform, int slot) {
            this.platform = platform;
            PciDevice.enumerate(platform, 0xC000_0000L, 0xFEE0_0000, 0x30 + slot);
            PvInfo info = PvInfo.read(platform);
            this.gm = new GmAllocator(info.apertureBase(), info.apertureSize());
            this.ggtt = new GuestDisplay(platform);
            this.ppgtt = new Ppgtt(platform, frames);
            new GuestInterrupts(platform).enableGt0(GuestInterrupts.RCS_CONTEXT_SWITCH | GuestInterrupts.RCS_USER
                    | GuestInterrupts.BCS_CONTEXT_SWITCH);
            resultsGpa = frames.frame();
            resultsGma = mapGgtt(resultsGpa);
            ppgttResultsGpa = frames.frame();
            ppgtt.map4k(PPGTT_RESULTS, ppgttResultsGpa, 4096);
        }

        long mapGgtt(long gpa) {
            long gma = gm.allocate(4096, 4096);
            ggtt.writeGgtt(gma, gpa);
            return gma;
        }

        void writeInts(long gpa, int... values) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(values.length * 4L);
                for (int i = 0; i < values.length; i++) {
                    seg.set(DW, i * 4L, values[i]);
                }
                platform.ramWrite(gpa, seg);
            }
        }

        int readInt(long gpa) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment seg = arena.allocate(4);
                platform.ramRead(gpa, seg);
                return seg.get(DW, 0);
            }
        }

        Context context(int base) {
            return new Context(this, base);
        }
    }

    /** One engine's status page, ring and logical ring context. */
    private static final class Context {
        final MiniGuest g;
        final int base;
        final int id;
        final long hwspGpa;
        final long ringGpa;
        final long ringGma;
        final long contextGma;
        final long stateGpa;
        int tail;

        Context(MiniGuest g, int base) {
            this.g = g;
            this.base = base;
            this.id = g.nextContextId++;
            hwspGpa = g.frames.frame();
            g.platform.mmioWrite(GuestPlatform.BAR0, base + 0x80, 4, g.mapGgtt(hwspGpa));
            g.platform.mmioWrite(GuestPlatform.BAR0, base + 0x29C, 4, 0x8000_8000L);
            ringGpa = g.frames.frame();
            ringGma = g.mapGgtt(ringGpa);
            contextGma = g.gm.allocate(2 * 4096, 4096);
            g.ggtt.writeGgtt(contextGma, g.frames.frame());
            stateGpa = g.frames.frame();
            g.ggtt.writeGgtt(contextGma + 4096, stateGpa);
            int[] state = new int[0x50];
            state[1] = 0x1100_1000 | (14 * 2 - 1);
            int[] regs = {0x244, 0x34, 0x30, 0x38, 0x3C};
            for (int i = 0; i < regs.length; i++) {
                state[2 + 2 * i] = base + regs[i];
            }
            state[9] = (int) ringGma;
            state[11] = 1; // one page, valid
            long root = g.ppgtt.root();
            for (int n = 0; n < 4; n++) {
                state[37 + 4 * (3 - n) - 1] = base + 0x274 + 8 * n;
                state[39 + 4 * (3 - n) - 1] = base + 0x270 + 8 * n;
            }
            state[49] = (int) (root >>> 32);
            state[51] = (int) root;
            g.writeInts(stateGpa, state);
        }

        /** Appends {@code commands} (padded to a qword) and submits the context through ELSP. */
        void submit(int... commands) {
            int[] padded = commands.length % 2 == 0 ? commands : java.util.Arrays.copyOf(commands, commands.length + 1);
            g.writeInts(ringGpa + tail, padded);
            tail = (tail + padded.length * 4) % 4096;
            g.writeInts(stateGpa + 7 * 4, tail);
            long descriptor = contextGma | 1 | (3 << 3) | (1 << 8);
            g.platform.mmioWrite(GuestPlatform.BAR0, base + 0x230, 4, 0);
            g.platform.mmioWrite(GuestPlatform.BAR0, base + 0x230, 4, 0);
            g.platform.mmioWrite(GuestPlatform.BAR0, base + 0x230, 4, id);
            g.platform.mmioWrite(GuestPlatform.BAR0, base + 0x230, 4, descriptor & 0xFFFF_FFFFL);
        }

        /** The CSB entries (status, context id) the status page holds, oldest first, from index 0. */
        List<int[]> csb() {
            List<int[]> entries = new ArrayList<>();
            int write = g.readInt(hwspGpa + 0x1F * 4);
            for (int i = 0; i <= write && write < 6; i++) {
                entries.add(new int[] {g.readInt(hwspGpa + (0x10 + 2 * i) * 4), g.readInt(hwspGpa + (0x11 + 2 * i) * 4)});
            }
            return entries;
        }

        int ringHead() {
            return g.readInt(stateGpa + 5 * 4);
        }
    }

    private static void awaitCsb(Context c, int entries) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long seen = 0;
        while (c.csb().size() < entries && System.nanoTime() < deadline) {
            seen = c.g.platform.awaitMsi(seen, Duration.ofMillis(50));
        }
    }

    /** Attaches {@code vgpu} to an in-process guest of the fake plugin and brings a {@link MiniGuest} up on it. */
    private static MiniGuest attachGuest(Gvt gvt, Vgpu vgpu, String name, int slot) {
        AttachedVgpu attached = gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess(name, RAM));
        return new MiniGuest(new InProcessPlatform(attached.inProcessGuest().orElseThrow()), slot);
    }

    /** Polls the vGPU's submission statistics until {@code done} holds or 20 s passed; returns the last ones. */
    private static ExecStats awaitStats(Gvt gvt, Vgpu vgpu, java.util.function.Predicate<ExecStats> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        ExecStats stats = gvt.stats(vgpu.id()).orElseThrow().exec();
        while (!done.test(stats) && System.nanoTime() < deadline) {
            Thread.sleep(1);
            stats = gvt.stats(vgpu.id()).orElseThrow().exec();
        }
        return stats;
    }

    @Test
    void storesRunOnTheSoftwareGpuAndTheGuestSeesCsbEventsHeadAndAnMsi() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            AttachedVgpu attached = gvt.attach(vgpu.id(), "fake", new AttachRequest.InProcess("g", RAM));
            MiniGuest g = new MiniGuest(new InProcessPlatform(attached.inProcessGuest().orElseThrow()), 0);
            Context rcs = g.context(RCS);
            long msis = g.platform.msiCount();
            rcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma + 8, 0, 0xCAFE_0001,
                    MI_STORE_DATA_IMM_PPGTT, (int) PPGTT_RESULTS + 16, 0, 0xBEEF_0002,
                    MI_USER_INTERRUPT);
            awaitCsb(rcs, 2);

            assertThat(g.readInt(g.resultsGpa + 8)).as("GGTT store").isEqualTo(0xCAFE_0001);
            assertThat(g.readInt(g.ppgttResultsGpa + 16)).as("PPGTT store through the shadow PPGTT").isEqualTo(0xBEEF_0002);
            List<int[]> csb = rcs.csb();
            assertThat(csb).hasSize(2);
            assertThat(csb.get(0)[0]).as("idle-to-active").isEqualTo(1);
            assertThat(csb.get(1)[0]).as("active-to-idle | complete").isEqualTo((1 << 3) | (1 << 4));
            assertThat(csb.get(1)[1]).isEqualTo(rcs.id);
            assertThat(rcs.ringHead()).as("RING_HEAD written back").isEqualTo(rcs.tail);
            assertThat(g.platform.msiCount()).isGreaterThan(msis);
            ExecStats stats = gvt.stats(vgpu.id()).orElseThrow().exec();
            assertThat(stats.submissions()).isEqualTo(1);
            assertThat(stats.completed()).isEqualTo(1);
            assertThat(stats.bytesScanned()).isEqualTo(40);
            assertThat(stats.commandsScanned()).as("two stores, a user interrupt and the padding MI_NOOP").isEqualTo(4);

            // a second submission continues at the written-back head
            rcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma + 12, 0, 0xCAFE_0003);
            awaitCsb(rcs, 4);
            assertThat(g.readInt(g.resultsGpa + 12)).isEqualTo(0xCAFE_0003);
            assertThat(rcs.ringHead()).isEqualTo(rcs.tail);
            assertThat(gvt.stats(vgpu.id()).orElseThrow().failsafe()).isFalse();
        }
    }

    @Test
    void aStoreOutsideThePartitionFailsThatVgpuOnlyAndNeverReachesHostMemory() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu bad = gvt.vgpus().create("GVTg_V5_4");
            Vgpu good = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest b = attachGuest(gvt, bad, "bad", 0);
            MiniGuest g = attachGuest(gvt, good, "good", 1);
            Context evil = b.context(BCS);
            Context fine = g.context(BCS);
            long target = good.partition().aperture().base() + 0x1000; // the other vGPU's graphics memory
            evil.submit(MI_STORE_DATA_IMM_GGTT, (int) target, 0, 0x0BAD_0BAD);
            fine.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma, 0, 0x600D);
            awaitCsb(fine, 2);

            assertThat(g.readInt(g.resultsGpa)).isEqualTo(0x600D);
            assertThat(gvt.stats(good.id()).orElseThrow().failsafe()).isFalse();
            assertThat(gvt.stats(bad.id()).orElseThrow().failsafe()).isTrue();
            assertThat(gvt.stats(bad.id()).orElseThrow().exec().rejected()).isEqualTo(1);
            assertThat(evil.csb()).as("the rejected workload never completes for the guest").hasSizeLessThan(2);
            evil.submit(MI_STORE_DATA_IMM_GGTT, (int) b.resultsGma, 0, 1);
            assertThat(gvt.stats(bad.id()).orElseThrow().exec().submissions())
                    .as("a failed vGPU submits nothing until it is reset").isEqualTo(1);
            assertThat(b.readInt(b.resultsGpa)).isZero();
        }
    }

    @Test
    void aWorkloadThatFaultsOnTheGpuHangsWithoutCompletingAndOthersRunOn() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            Context rcs = g.context(RCS);
            Context bcs = g.context(BCS);
            rcs.submit(MI_STORE_DATA_IMM_PPGTT, 0x7000_0000, 0, 1); // not mapped in the guest's PPGTT
            bcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma, 0, 0x51);
            awaitCsb(bcs, 2);
            ExecStats stats = awaitStats(gvt, vgpu, st -> st.hung() > 0);
            assertThat(stats.hung()).isEqualTo(1);
            assertThat(stats.completed()).isEqualTo(1);
            assertThat(g.readInt(g.resultsGpa)).isEqualTo(0x51);
            assertThat(rcs.csb()).as("only idle-to-active: a hung context never completes").hasSize(1);
        }
    }

    private static final int BB_START_PPGTT = 0x1880_0101;
    private static final long LOOP = 0x2000_0000L;

    /**
     * Maps a PPGTT batch at {@link #LOOP} that starts itself again: it runs until the engine's command bound.
     * Returns its guest frame.
     */
    private static long mapLoopingBatch(MiniGuest g) {
        long page = g.frames.frame();
        g.ppgtt.map4k(LOOP, page, 4096);
        g.writeInts(page, BB_START_PPGTT, (int) LOOP, 0, 0);
        return page;
    }

    @Test
    void guestRamUnmappedUnderARunningWorkloadFailsItInsteadOfReportingIt() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            long batch = mapLoopingBatch(g);
            Context rcs = g.context(RCS);
            rcs.submit(BB_START_PPGTT, (int) LOOP, 0, 0);
            awaitStats(gvt, vgpu, st -> st.executing() > 0);
            vgpu.dmaUnmapped(batch, 4096); // what the plugin calls when the VMM unmaps that RAM
            ExecStats stats = awaitStats(gvt, vgpu, st -> st.failed() + st.hung() > 0);
            assertThat(stats.failed()).as("%s", stats).isEqualTo(1);
            assertThat(stats.hung()).isZero();
            assertThat(stats.completed()).isZero();
            assertThat(rcs.csb()).as("never reported complete").hasSize(1);
        }
    }

    @Test
    void guestRamUnmappedUnderTwoSlicedWorkloadsOfOneAddressSpaceFailsBothAndNeitherFaults() throws InterruptedException {
        // Two contexts sharing one PPGTT (one shadow) loop on RCS and BCS, each between slices most of the time.
        // The unmap reaches both: the first of them to be resumed or completed must not use up the news for the
        // other, which would then resume on shadow entries that no longer map its batch and fault on the GPU.
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            long batch = mapLoopingBatch(g);
            Context rcs = g.context(RCS);
            Context bcs = g.context(BCS);
            rcs.submit(BB_START_PPGTT, (int) LOOP, 0, 0);
            bcs.submit(BB_START_PPGTT, (int) LOOP, 0, 0);
            awaitStats(gvt, vgpu, st -> st.commandsExecuted() > 10_000);
            vgpu.dmaUnmapped(batch, 4096);
            ExecStats stats = awaitStats(gvt, vgpu, st -> st.failed() + st.hung() >= 2);
            assertThat(stats.hung()).as("a workload ran on after the unmap and faulted: %s", stats).isZero();
            assertThat(stats.failed()).as("%s", stats).isEqualTo(2);
            assertThat(stats.completed()).isZero();
            assertThat(rcs.csb()).as("never reported complete").hasSize(1);
            assertThat(bcs.csb()).as("never reported complete").hasSize(1);
        }
    }

    @Test
    void detachWithWorkInFlightWaitsForItAndLeavesNoPinsHostMemoryOrSubmissions() throws InterruptedException {
        long hostBytes = gpu.hostBytesInUse();
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            mapLoopingBatch(g);
            Context rcs = g.context(RCS);
            Context bcs = g.context(BCS);
            rcs.submit(BB_START_PPGTT, (int) LOOP, 0, 0);
            bcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma, 0, 1);
            bcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma, 0, 2);
            gvt.detach(vgpu.id());
            assertThat(gpu.mappedFrames()).as("guest frames still DMA-mapped after detach").isZero();
            assertThat(gpu.hostBytesInUse()).as("host memory left after detach").isEqualTo(hostBytes);
            gvt.vgpus().destroy(vgpu.id());
        }
    }

    @Test
    void anEngineResetDropsTheWorkloadInFlightWithoutCompletionAndTheEngineRunsAfterwards() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            mapLoopingBatch(g);
            Context rcs = g.context(RCS);
            rcs.submit(BB_START_PPGTT, (int) LOOP, 0, 0);
            rcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma, 0, 0x0DEAD); // queued behind the loop
            g.platform.mmioWrite(GuestPlatform.BAR0, 0x941C, 4, 1 << 1); // GDRST: render engine
            ExecStats stats = awaitStats(gvt, vgpu, st -> st.failed() + st.hung() >= 2);
            assertThat(stats.failed() + stats.hung()).as("the loop and the store queued behind it").isEqualTo(2);
            assertThat(stats.completed()).isZero();
            assertThat(g.readInt(g.resultsGpa)).as("dropped work never ran").isZero();

            // the guest re-initialises the engine (its registers were reset) and continues at its tail
            g.platform.mmioWrite(GuestPlatform.BAR0, RCS + 0x80, 4, g.mapGgtt(rcs.hwspGpa));
            g.platform.mmioWrite(GuestPlatform.BAR0, RCS + 0x29C, 4, 0x8000_8000L);
            g.writeInts(rcs.stateGpa + 5 * 4, rcs.tail);
            g.writeInts(rcs.hwspGpa + 0x1F * 4, 7);
            rcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma + 4, 0, 0x600D);
            awaitCsb(rcs, 2);
            assertThat(g.readInt(g.resultsGpa + 4)).as("%s", gvt.stats(vgpu.id())).isEqualTo(0x600D);
            assertThat(gvt.stats(vgpu.id()).orElseThrow().exec().completed()).isEqualTo(1);
            assertThat(gvt.stats(vgpu.id()).orElseThrow().failsafe()).isFalse();
        }
    }

    @Test
    void aDeviceResetWithWorkInFlightLeavesTheVgpuUsableAndLeaksNothing() throws InterruptedException {
        long hostBytes = gpu.hostBytesInUse();
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            mapLoopingBatch(g);
            g.context(RCS).submit(BB_START_PPGTT, (int) LOOP, 0, 0);
            vgpu.reset();
            MiniGuest again = new MiniGuest(g.platform, 0);
            Context bcs = again.context(BCS);
            bcs.submit(MI_STORE_DATA_IMM_GGTT, (int) again.resultsGma, 0, 0x77);
            awaitCsb(bcs, 2);
            assertThat(again.readInt(again.resultsGpa)).isEqualTo(0x77);
            gvt.detach(vgpu.id());
            assertThat(gpu.mappedFrames()).isZero();
            assertThat(gpu.hostBytesInUse()).isEqualTo(hostBytes);
        }
    }

    private static final int MI_ARB_CHECK = 0x05 << 23;
    private static final int MI_BATCH_BUFFER_END = 0x0A << 23;
    private static final long SPIN = 0x3000_0000L;

    /**
     * Maps an IGT-style spinner at {@link #SPIN}: MI_ARB_CHECK, a store of {@code marker}, then
     * MI_BATCH_BUFFER_START back to its own start. It runs until the CPU writes MI_BATCH_BUFFER_END over its first
     * dword. Returns its guest frame.
     */
    private static long mapSpinner(MiniGuest g, int marker) {
        long page = g.frames.frame();
        g.ppgtt.map4k(SPIN, page, 4096);
        g.writeInts(page, MI_ARB_CHECK, MI_STORE_DATA_IMM_PPGTT, (int) PPGTT_RESULTS + 32, 0, marker,
                BB_START_PPGTT, (int) SPIN, 0);
        return page;
    }

    private static int mmio(MiniGuest g, int offset) {
        return (int) g.platform.mmioRead(GuestPlatform.BAR0, offset, 4);
    }

    @Test
    void aSpinnerKeepsTheEngineBusyUntilTheCpuEndsItWithABatchBufferEnd() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            long spinner = mapSpinner(g, 0x5917);
            Context rcs = g.context(RCS);
            rcs.submit(BB_START_PPGTT, (int) SPIN, 0, 0, MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma, 0, 0xE7D);
            ExecStats busy = awaitStats(gvt, vgpu, st -> st.commandsExecuted() > 1000);
            Thread.sleep(200);
            assertThat(g.readInt(g.ppgttResultsGpa + 32)).as("the spinner runs").isEqualTo(0x5917);
            assertThat(rcs.csb()).as("busy: only idle-to-active, no completion").hasSize(1);
            assertThat(mmio(g, RCS + 0x234) & (1 << 18)).as("EXECLIST_STATUS: element 0 active").isNotZero();
            assertThat(mmio(g, RCS + 0x238)).as("EXECLIST_STATUS: the spinner's context").isEqualTo(rcs.id);
            assertThat(mmio(g, RCS + 0x74)).as("ACTHD points into the spinning batch")
                    .isBetween((int) SPIN, (int) SPIN + 32);
            assertThat(mmio(g, RCS + 0x34)).as("RING_HEAD at the ring's batch start").isZero();
            assertThat(g.readInt(g.resultsGpa)).as("the ring after the batch has not run").isZero();
            ExecStats still = gvt.stats(vgpu.id()).orElseThrow().exec();
            assertThat(still.hung()).isZero();
            assertThat(still.completed()).isZero();
            assertThat(still.commandsExecuted()).as("executed on, in slices").isGreaterThan(busy.commandsExecuted());

            g.writeInts(spinner, MI_BATCH_BUFFER_END); // the CPU ends the loop
            awaitCsb(rcs, 2);
            assertThat(rcs.csb()).hasSize(2);
            assertThat(rcs.csb().get(1)[0]).as("active-to-idle | complete").isEqualTo((1 << 3) | (1 << 4));
            assertThat(g.readInt(g.resultsGpa)).as("the ring after the batch ran").isEqualTo(0xE7D);
            assertThat(rcs.ringHead()).isEqualTo(rcs.tail);
            assertThat(mmio(g, RCS + 0x34)).as("RING_HEAD at the tail once idle").isEqualTo(rcs.tail);
            ExecStats done = gvt.stats(vgpu.id()).orElseThrow().exec();
            assertThat(done.completed()).isEqualTo(1);
            assertThat(done.hung()).isZero();
            assertThat(gvt.stats(vgpu.id()).orElseThrow().failsafe()).isFalse();
        }
    }

    @Test
    void anotherVgpusWorkOnTheSameEngineRunsWhileASpinnerIsMidFlight() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu spinning = gvt.vgpus().create("GVTg_V5_4");
            Vgpu other = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest a = attachGuest(gvt, spinning, "a", 0);
            MiniGuest b = attachGuest(gvt, other, "b", 1);
            long spinner = mapSpinner(a, 1);
            Context spin = a.context(RCS);
            Context work = b.context(RCS);
            spin.submit(BB_START_PPGTT, (int) SPIN, 0, 0);
            awaitStats(gvt, spinning, st -> st.commandsExecuted() > 1000);
            work.submit(MI_STORE_DATA_IMM_GGTT, (int) b.resultsGma, 0, 0xB0B);
            awaitCsb(work, 2);
            assertThat(b.readInt(b.resultsGpa)).as("the other vGPU's store ran on RCS").isEqualTo(0xB0B);
            assertThat(work.csb()).hasSize(2);
            assertThat(spin.csb()).as("the spinner is still mid-flight").hasSize(1);
            ExecStats mid = gvt.stats(spinning.id()).orElseThrow().exec();
            assertThat(mid.completed() + mid.hung() + mid.failed()).isZero();

            a.writeInts(spinner, MI_BATCH_BUFFER_END);
            awaitCsb(spin, 2);
            assertThat(spin.csb()).hasSize(2);
            assertThat(gvt.stats(spinning.id()).orElseThrow().exec().completed()).isEqualTo(1);
        }
    }

    @Test
    void aRunawayWithoutArbitrationPointIsStillReportedAsAHang() throws InterruptedException {
        try (Gvt gvt = engine()) {
            Vgpu vgpu = gvt.vgpus().create("GVTg_V5_4");
            MiniGuest g = attachGuest(gvt, vgpu, "g", 0);
            long noops = g.frames.frame(); // zeroed: 1024 MI_NOOPs, mapped again and again past the command bound
            int pages = (ENGINE_COMMAND_BOUND / 1024) + 8;
            for (int i = 0; i < pages; i++) {
                g.ppgtt.map4k(LOOP + 4096L * i, noops, 4096);
            }
            Context rcs = g.context(RCS);
            Context bcs = g.context(BCS);
            rcs.submit(BB_START_PPGTT, (int) LOOP, 0, 0);
            ExecStats stats = awaitStats(gvt, vgpu, st -> st.hung() > 0);
            assertThat(stats.hung()).as("%s", stats).isEqualTo(1);
            assertThat(rcs.csb()).as("a hung context never completes").hasSize(1);
            bcs.submit(MI_STORE_DATA_IMM_GGTT, (int) g.resultsGma, 0, 0x51);
            awaitCsb(bcs, 2);
            assertThat(g.readInt(g.resultsGpa)).as("the vGPU's other engines run on").isEqualTo(0x51);
            assertThat(gvt.stats(vgpu.id()).orElseThrow().failsafe()).isFalse();
        }
    }

    /** The engine's bound on commands without an arbitration point ({@code Execlists.MAX_COMMANDS}). */
    private static final int ENGINE_COMMAND_BOUND = 1 << 20;
}
