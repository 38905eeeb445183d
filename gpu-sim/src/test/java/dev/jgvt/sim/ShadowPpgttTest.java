package dev.jgvt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.gtt.PpgttConfig;
import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.gtt.ShadowPpgtt;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class ShadowPpgttTest {
    private static final long VA = 3L << 39 | 5L << 30;
    private Rig rig = new Rig(PpgttConfig.STRICT);

    @AfterEach
    void close() {
        rig.close();
    }

    private GpuAddressSpace space(ShadowPpgtt mm) {
        long[] roots = mm.shadowRoots();
        return roots.length == 1 ? new GpuAddressSpace.Ppgtt4(roots[0]) : new GpuAddressSpace.Ppgtt3(roots);
    }

    private long resolve(ShadowPpgtt mm, long va) {
        return rig.resolve(space(mm), va, rig.dmaToGfn());
    }

    @Test
    void fourKiBPagesResolveToTheGuestFramesAndTablesAreTracked() {
        GuestTables t = new GuestTables(rig.guest);
        List<Long> frames = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            long gfn = rig.guest.allocFrame();
            rig.guest.frameView(gfn).set(TestGuest.LONG, 8, 0x5000 + i);
            frames.add(gfn);
            t.map4k(VA + (long) i * 37 * 4096, gfn);
        }
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        for (int i = 0; i < 40; i++) {
            long va = VA + (long) i * 37 * 4096;
            assertThat(resolve(mm, va)).isEqualTo(frames.get(i));
            assertThat(rig.gpu.walker().readDevice(rig.gpu.walker().translate(space(mm), va + 8))).isEqualTo(0x5000 + i);
        }
        assertThat(resolve(mm, VA + 4096)).as("not mapped by the guest").isEqualTo(-(100 + 10 * GpuFault.Kind.NOT_PRESENT.ordinal() + 1));
        // PML4, one PDP, one PD, PTs covering 40 * 37 pages (3 PTs)
        assertThat(rig.ppgtt.shadowPages()).isEqualTo(6);
        assertThat(rig.registry.size()).isEqualTo(6);
        assertThat(rig.guest.trackedTotal()).isEqualTo(6);
        assertThat(rig.guest.isTracked(t.pml4)).isTrue();
    }

    @Test
    void sixtyFourKiBPagesAreSplitIntoSixteenEntries() {
        GuestTables t = new GuestTables(rig.guest);
        long first = rig.guest.alloc2m();
        t.map64k(VA + 0x10000, first + 16);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        for (int k = 0; k < 16; k++) {
            assertThat(resolve(mm, VA + 0x10000 + k * 4096L + 0x123)).isEqualTo(first + 16 + k);
        }
        // a write to a slot that is not a multiple of 16 is ignored
        long pt = t.pt(VA, GuestTables.IPS);
        t.write(pt, 17, rig.guest.allocFrame() << 12 | 3);
        assertThat(resolve(mm, VA + 0x11000)).isEqualTo(first + 17);
        // and the shadow PDE has IPS cleared: the hardware walks a 4 KiB table
        rig.gpu.walker().visitReachable(space(mm), 0, 0, new CollectingVisitor()
                .onLeaf((addr, size) -> assertThat(size).isEqualTo(4096)));
    }

    @Test
    void twoMiBPagesUseOneHugeMappingOrASplitTable() {
        GuestTables t = new GuestTables(rig.guest);
        long huge = rig.guest.alloc2m();
        t.map2m(VA, huge);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        assertThat(resolve(mm, VA + 0x1F_F123)).isEqualTo(huge + 0x1FF);
        CollectingVisitor v = new CollectingVisitor();
        rig.gpu.walker().visitReachable(space(mm), 0, 0, v);
        assertThat(v.leafSizes).containsExactly(2 << 20);
        rig.ppgtt.release(mm);
        rig.ppgtt.unpin(mm);

        rig.guest.contiguousRuns(false);
        ShadowPpgtt again = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(again)).isTrue();
        assertThat(resolve(again, VA + 0x1F_F123)).isEqualTo(huge + 0x1FF);
        CollectingVisitor split = new CollectingVisitor();
        rig.gpu.walker().visitReachable(space(again), 0, 0, split);
        assertThat(split.leafSizes).hasSize(512).containsOnly(4096);
    }

    @Test
    void oneGiBPagesAreRejected() {
        GuestTables t = new GuestTables(rig.guest);
        long pdp = t.pd(VA); // creates the PDP
        long pdpGfn = (rig.guest.cpuRead(t.pml4 << 12 | (VA >>> 39 & 0x1FF) << 3) & GuestTables.ADDR) >>> 12;
        t.write(pdpGfn, 7, 0x4000_0000L | GuestTables.P | GuestTables.PS);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        assertThat(rig.ppgtt.rejectedHugePages()).isEqualTo(1);
        assertThat(resolve(mm, 3L << 39 | 7L << 30)).isEqualTo(-(100 + 10 * GpuFault.Kind.NOT_PRESENT.ordinal() + 1));
        assertThat(pdp).isPositive();
    }

    @Test
    void gmaToGpaWalksTheGuestTables() {
        GuestTables t = new GuestTables(rig.guest);
        long a = rig.guest.allocFrame();
        long huge = rig.guest.alloc2m();
        long run = rig.guest.alloc2m();
        t.map4k(VA, a);
        t.map2m(VA + (4L << 21), huge);
        t.map64k(VA + (8L << 21) + 0x10000, run + 16);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.gmaToGpa(mm, VA + 0x123)).isEqualTo(a << 12 | 0x123);
        assertThat(rig.ppgtt.gmaToGpa(mm, VA + (4L << 21) + 0x12345)).isEqualTo((huge << 12) + 0x12345);
        assertThat(rig.ppgtt.gmaToGpa(mm, VA + (8L << 21) + 0x1ABCD)).isEqualTo(((run + 16) << 12) + 0xABCD);
        assertThat(rig.ppgtt.gmaToGpa(mm, VA + 4096)).isEqualTo(-1);
        assertThat(rig.ppgtt.gmaToGpa(mm, 1L << 50)).isEqualTo(-1);
        ShadowPpgtt bad = rig.ppgtt.acquire(PpgttRoot.l4(1L << 40));
        assertThat(rig.ppgtt.gmaToGpa(bad, 0)).isEqualTo(-1);
    }

    @Test
    void legacyThreeLevelRoots() {
        long pd = rig.guest.allocFrame();
        long pt = rig.guest.allocFrame();
        long data = rig.guest.allocFrame();
        rig.guest.cpuWrite(pd << 12 | 3 << 3, pt << 12 | 3, 8);
        rig.guest.cpuWrite(pt << 12 | 9 << 3, data << 12 | 3, 8);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l3(0, pd << 12, 0, 0));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        assertThat(resolve(mm, 1L << 30 | 3L << 21 | 9L << 12)).isEqualTo(data);
        assertThat(resolve(mm, 0)).isNegative();
        assertThat(mm.shadowRoots()).hasSize(4);
    }

    @Test
    void invalidGuestFramesMapScratchAndAreCounted() {
        GuestTables t = new GuestTables(rig.guest);
        long pt = t.pt(VA, 0);
        t.write(pt, 0, (1L << 40) | 3);              // far outside guest RAM
        t.write(pt, 1, (rig.guest.ramSize()) | 3);   // just past the end
        t.write(pt, 2, 0x3FFF_FFFF_F000L | 3);      // top of the 46-bit space
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        for (int i = 0; i < 3; i++) {
            assertThat(resolve(mm, VA + i * 4096L)).isEqualTo(-2);
        }
        assertThat(rig.ppgtt.invalidFrames()).isEqualTo(3);
        assertThat(rig.guest.pinnedTotal()).isZero();
    }

    @Test
    void shadowsAreSharedByRootAndByPageAndFreedWithTheLastReference() {
        GuestTables a = new GuestTables(rig.guest);
        long data = rig.guest.allocFrame();
        a.map4k(VA, data);
        long pml4b = rig.guest.allocFrame();
        // the second root shares the first one's PDP
        long pml4eA = rig.guest.cpuRead(a.pml4 << 12 | (VA >>> 39 & 0x1FF) << 3);
        rig.guest.cpuWrite(pml4b << 12 | 0, pml4eA, 8);

        ShadowPpgtt mmA = rig.ppgtt.acquire(PpgttRoot.l4(a.rootGpa()));
        assertThat(rig.ppgtt.acquire(PpgttRoot.l4(a.rootGpa()))).isSameAs(mmA);
        ShadowPpgtt mmB = rig.ppgtt.acquire(PpgttRoot.l4(pml4b << 12));
        assertThat(rig.ppgtt.pin(mmA)).isTrue();
        assertThat(rig.ppgtt.pin(mmB)).isTrue();
        assertThat(rig.ppgtt.shadowPages()).as("2 PML4s + shared PDP, PD, PT").isEqualTo(5);
        assertThat(resolve(mmB, VA & ((1L << 39) - 1))).isEqualTo(data);

        rig.ppgtt.unpin(mmA);
        rig.ppgtt.release(mmA);
        assertThat(mmA.isShadowed()).as("one reference left").isTrue();
        rig.ppgtt.release(mmA);
        assertThat(rig.ppgtt.shadowPages()).isEqualTo(4);
        assertThat(resolve(mmB, VA & ((1L << 39) - 1))).isEqualTo(data);
        rig.ppgtt.unpin(mmB);
        rig.ppgtt.release(mmB);
        assertThat(rig.ppgtt.shadowPages()).isZero();
        assertThat(rig.registry.size()).isZero();
        assertThat(rig.guest.trackedTotal()).isZero();
        rig.pins.releaseIdle();
        assertThat(rig.guest.pinnedTotal()).isZero();
        assertThat(rig.gpu.hostBytesInUse()).as("only the scratch pages remain").isEqualTo(5 * 4096);
    }

    @Test
    void trackedWritesReshadowImmediately() {
        GuestTables t = new GuestTables(rig.guest);
        long a = rig.guest.allocFrame();
        long b = rig.guest.allocFrame();
        t.map4k(VA, a);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        t.map4k(VA, b);
        assertThat(resolve(mm, VA)).isEqualTo(b);
        assertThat(rig.pins.refCount(a)).isZero();
        t.unmap4k(VA);
        assertThat(resolve(mm, VA)).isNegative();
        // a new page table hooked in by a tracked PDE write is shadowed and tracked at once
        t.map4k(VA + (1L << 21), a);
        assertThat(resolve(mm, VA + (1L << 21))).isEqualTo(a);
        assertThat(rig.ppgtt.traps()).isEqualTo(rig.guest.trackedWrites);
    }

    @Test
    void partialWritesAreParkedUntilTheNextSubmission() {
        GuestTables t = new GuestTables(rig.guest);
        long a = rig.guest.allocFrame();
        long b = rig.guest.allocFrame();
        t.map4k(VA, a);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        long pte = t.pteGpa(VA);
        rig.guest.cpuWrite(pte, b << 12 | 3, 4);
        assertThat(resolve(mm, VA)).as("parked at scratch").isNegative();
        rig.guest.cpuWrite(pte + 4, 0, 4);
        assertThat(resolve(mm, VA)).isNegative();
        rig.ppgtt.unpin(mm);
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        assertThat(resolve(mm, VA)).isEqualTo(b);
    }

    @Test
    void aTableThatReferencesItselfIsShadowedPerLevel() {
        GuestTables t = new GuestTables(rig.guest);
        long data = rig.guest.allocFrame();
        t.map4k(VA, data);
        // PML4[0] -> the PML4 itself: used as PDP, PD and PT too
        rig.guest.cpuWrite(t.pml4 << 12, t.pml4 << 12 | 3, 8);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        assertThat(resolve(mm, VA)).isEqualTo(data);
        // va 0 walks PML4[0] -> PML4-as-PDP[0] -> PML4-as-PD[0] -> PML4-as-PT[0] = the PML4 page as data
        assertThat(resolve(mm, 0)).isEqualTo(t.pml4);
        CollectingVisitor v = new CollectingVisitor();
        rig.gpu.walker().visitReachable(space(mm), 0, 0, v);
        Map<Long, Long> dma = rig.dmaToGfn();
        for (long leaf : v.leaves) {
            assertThat(dma).containsKey(leaf);
        }
    }

    @Test
    void rootPointersIntoUnbackedMemoryFailThePin() {
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(1L << 40));
        assertThat(rig.ppgtt.pin(mm)).isFalse();
        assertThat(mm.error()).contains("not guest RAM");
        assertThat(mm.pinCount()).isZero();
        GuestTables t = new GuestTables(rig.guest);
        rig.unmap(t.pml4, 1);
        ShadowPpgtt hole = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(hole)).isFalse();
        long pd = rig.guest.allocFrame();
        ShadowPpgtt l3 = rig.ppgtt.acquire(PpgttRoot.l3(pd << 12, 0, 1L << 36, 0));
        assertThat(rig.ppgtt.pin(l3)).isFalse();
        assertThat(rig.ppgtt.shadowPages()).as("partial builds are undone").isZero();
    }

    @Test
    void unpinnedShadowsAreReclaimedUnderTheBudget() {
        rig.close();
        rig = new Rig(new SimGpu(Rig.SMALL), true, new TestGuest(64L << 20), PpgttConfig.STRICT.withBudget(12), 64, true);
        List<ShadowPpgtt> mms = new ArrayList<>();
        List<Long> data = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            GuestTables t = new GuestTables(rig.guest);
            long gfn = rig.guest.allocFrame();
            t.map4k(VA, gfn); // 4 tables each
            data.add(gfn);
            ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
            assertThat(rig.ppgtt.pin(mm)).isTrue();
            assertThat(resolve(mm, VA)).isEqualTo(gfn);
            rig.ppgtt.unpin(mm);
            mms.add(mm);
        }
        assertThat(rig.ppgtt.shadowPages()).isEqualTo(12);
        GuestTables fourth = new GuestTables(rig.guest);
        fourth.map4k(VA, rig.guest.allocFrame());
        ShadowPpgtt mm4 = rig.ppgtt.acquire(PpgttRoot.l4(fourth.rootGpa()));
        assertThat(rig.ppgtt.pin(mm4)).isTrue();
        assertThat(rig.ppgtt.reclaims()).isEqualTo(1);
        assertThat(mms.get(0).isShadowed()).as("least recently used goes first").isFalse();
        assertThat(mms.get(1).isShadowed()).isTrue();
        // the reclaimed one is rebuilt at its next pin, evicting the next LRU victim
        assertThat(rig.ppgtt.pin(mms.get(0))).isTrue();
        assertThat(resolve(mms.get(0), VA)).isEqualTo(data.get(0));
        assertThat(mms.get(1).isShadowed()).isFalse();
        // with everything pinned there is nothing to reclaim: the pin fails as a guest error
        assertThat(rig.ppgtt.pin(mms.get(2))).isTrue();
        assertThat(rig.ppgtt.pin(mms.get(1))).isFalse();
        assertThat(mms.get(1).error()).contains("budget");
    }

    @Test
    void dmaUnmapDuringUseFailsTheWorkloadAndPointsAtScratch() {
        GuestTables t = new GuestTables(rig.guest);
        long a = rig.guest.allocFrame();
        long b = rig.guest.allocFrame();
        t.map4k(VA, a);
        t.map4k(VA + 4096, b);
        ShadowPpgtt mm = rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa()));
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        long before = mm.failures();
        rig.unmap(a, 1);
        assertThat(mm.failures()).as("counted, and reading does not consume it").isEqualTo(before + 1);
        assertThat(mm.failures()).isEqualTo(before + 1);
        assertThat(resolve(mm, VA)).isEqualTo(-2);
        assertThat(resolve(mm, VA + 4096)).isEqualTo(b);
        // the page table itself goes away: everything under it is scratch; the next pin re-reads it
        long pt = t.pt(VA, 0);
        rig.unmap(pt, 1);
        assertThat(resolve(mm, VA + 4096)).isNegative();
        assertThat(rig.guest.pinnedIn(b, 1)).as("b is idle in the cache, not referenced").isEqualTo(1);
        assertThat(rig.pins.refCount(b)).isZero();
        rig.ppgtt.unpin(mm);
        assertThat(rig.ppgtt.pin(mm)).isTrue();
        assertThat(resolve(mm, VA + 4096)).isNegative();
    }
}
