package dev.jgvt.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jgvt.core.gtt.PpgttConfig;
import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two vGPUs on one GPU, each fed fuzzed GGTT writes, page-table writes, roots and DMA unmaps. Afterwards the host
 * tables are walked with the GPU's own walker: everything reachable from a vGPU's GGTT partition and PPGTT shadows
 * is that vGPU's pinned guest pages, its scratch pages or its own shadow tables — nothing else — and nothing threw.
 */
final class IsolationTest {
    static final VgpuPartition B = new VgpuPartition(new GmRange(32L << 20, 16L << 20), new GmRange(160L << 20, 32L << 20), 4, 4);

    static LongStream seeds() {
        long fixed = Long.getLong("gvt.seed", 0);
        return fixed != 0 ? LongStream.of(fixed) : LongStream.of(7, 99, 2024);
    }

    static final class Vgpu {
        final Rig rig;
        final VgpuPartition partition;
        final List<Long> tableFrames = new ArrayList<>();
        final List<ShadowPpgtt> mms = new ArrayList<>();
        final long frames;

        Vgpu(SimGpu gpu, VgpuPartition partition, PpgttConfig config) {
            this.partition = partition;
            this.rig = new Rig(gpu, false, new TestGuest(16L << 20), config, 32, true, partition);
            this.frames = rig.guest.ramSize() >>> 12;
            GuestTables t = new GuestTables(rig.guest);
            for (int i = 0; i < 8; i++) {
                t.map4k((long) i << 30 | (long) i << 21, rig.guest.allocFrame());
                tableFrames.add(t.pt((long) i << 30 | (long) i << 21, 0));
                tableFrames.add(t.pd((long) i << 30));
            }
            tableFrames.add(t.pml4);
            mms.add(rig.ppgtt.acquire(PpgttRoot.l4(t.rootGpa())));
        }

        long randomFrame(Random r) {
            return switch (r.nextInt(6)) {
                case 0 -> r.nextLong() >>> 18;                 // anywhere in 46 bits
                case 1 -> frames + r.nextInt(4096);             // just past guest RAM
                case 2 -> tableFrames.get(r.nextInt(tableFrames.size()));
                default -> r.nextInt((int) frames);
            };
        }

        void step(Random r) {
            int kind = r.nextInt(100);
            if (kind < 30) {
                long index = r.nextBoolean()
                        ? (partition.aperture().base() >>> 12) + r.nextInt((int) (partition.aperture().size() >>> 12))
                        : r.nextInt(1 << 16);
                long value = r.nextInt(8) == 0 ? r.nextLong() : randomFrame(r) << 12 | r.nextInt(4096);
                if (r.nextBoolean()) {
                    rig.ggtt.write(index * 8, 8, value);
                } else {
                    rig.ggtt.write(index * 8 + (r.nextBoolean() ? 4 : 0), 4, r.nextBoolean() ? value : value >>> 32);
                }
            } else if (kind < 80) {
                long table = tableFrames.get(r.nextInt(tableFrames.size()));
                int idx = r.nextInt(512);
                long flags = 1 | (r.nextBoolean() ? GuestTables.PS : 0) | (r.nextInt(4) == 0 ? GuestTables.IPS : 0) | r.nextInt(0x80);
                long value = r.nextInt(10) == 0 ? r.nextLong() : r.nextInt(8) == 0 ? 0 : randomFrame(r) << 12 | flags;
                long gpa = table << 12 | (long) idx << 3;
                if (!rig.guest.isBacked(table)) {
                    return;
                }
                if (r.nextInt(4) == 0) {
                    rig.guest.cpuWrite(gpa + (r.nextBoolean() ? 4 : 0), value, 4);
                } else {
                    rig.guest.cpuWrite(gpa, value, 8);
                }
                if (r.nextInt(20) == 0) {
                    tableFrames.add((value & GuestTables.ADDR) >>> 12);
                }
            } else if (kind < 90) {
                ShadowPpgtt mm = mms.get(r.nextInt(mms.size()));
                if (rig.ppgtt.pin(mm)) {
                    rig.ppgtt.unpin(mm);
                }
            } else if (kind < 95) {
                long root = r.nextInt(3) == 0 ? r.nextLong() & ((1L << 46) - 1) : tableFrames.get(r.nextInt(tableFrames.size())) << 12;
                mms.add(rig.ppgtt.acquire(r.nextBoolean() ? PpgttRoot.l4(root)
                        : PpgttRoot.l3(root, r.nextBoolean() ? 0 : randomFrame(r) << 12, 0, root)));
            } else if (kind < 97) {
                long first = r.nextInt((int) frames);
                rig.unmap(first, 1 + r.nextInt(4));
            } else {
                ShadowPpgtt mm = mms.remove(r.nextInt(mms.size()));
                rig.ppgtt.release(mm);
                if (mms.isEmpty()) {
                    mms.add(rig.ppgtt.acquire(PpgttRoot.l4(tableFrames.get(0) << 12)));
                }
            }
        }

        /** Walks everything the hardware can reach from this vGPU and checks it is this vGPU's own. */
        void audit(SimGpu gpu) {
            List<ShadowPpgtt> pinned = new ArrayList<>();
            for (ShadowPpgtt mm : new HashSet<>(mms)) {
                if (rig.ppgtt.pin(mm)) {
                    pinned.add(mm);
                } else {
                    assertThat(mm.error()).isNotBlank();
                }
            }
            GpuAddressWalker.ReachVisitor check = checker(gpu);
            int first = (int) (partition.aperture().base() >>> 12);
            gpu.walker().visitReachable(GpuAddressSpace.GGTT, first, first + (int) (partition.aperture().size() >>> 12), check);
            first = (int) (partition.hidden().base() >>> 12);
            gpu.walker().visitReachable(GpuAddressSpace.GGTT, first, first + (int) (partition.hidden().size() >>> 12), check);
            for (ShadowPpgtt mm : pinned) {
                long[] roots = mm.shadowRoots();
                GpuAddressSpace space = roots.length == 1 ? new GpuAddressSpace.Ppgtt4(roots[0]) : new GpuAddressSpace.Ppgtt3(roots);
                gpu.walker().visitReachable(space, 0, 0, check);
            }
            for (ShadowPpgtt mm : pinned) {
                rig.ppgtt.unpin(mm);
            }
        }

        /** Checks against what this vGPU owns right now. */
        private GpuAddressWalker.ReachVisitor checker(SimGpu gpu) {
            Set<Long> leaves = new HashSet<>(rig.dmaToGfn().keySet());
            leaves.add(rig.scratch.dataPage());
            Set<Long> tables = new HashSet<>();
            rig.ppgtt.forEachShadowTable(tables::add);
            for (int level = 1; level <= 4; level++) {
                tables.add(rig.scratch.table(level));
            }
            return new GpuAddressWalker.ReachVisitor() {
                @Override
                public void table(int level, long deviceAddress) {
                    if (!tables.contains(deviceAddress)) {
                        throw new AssertionError("a table at level " + level + " (0x" + Long.toHexString(deviceAddress)
                                + ") is neither a shadow table of this vGPU nor scratch");
                    }
                }

                @Override
                public void leaf(long deviceAddress, int size) {
                    for (long off = 0; off < size; off += 4096) {
                        long page = deviceAddress + off;
                        MemorySegment backing = gpu.page(page);
                        if (!leaves.contains(page) || backing == null
                                || !(page == rig.scratch.dataPage() || rig.guest.containsHost(backing))) {
                            throw new AssertionError("leaf page 0x" + Long.toHexString(page)
                                    + " is neither a pinned page of this guest nor its scratch page");
                        }
                    }
                }

                @Override
                public void fault(GpuFault fault) {
                    throw new AssertionError("the shadow tree itself faults: " + fault.getMessage());
                }
            };
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void fuzzedGuestsReachOnlyTheirOwnMemory(long seed) {
        System.out.println("IsolationTest seed " + seed + " (replay with -Dgvt.seed=" + seed + ")");
        Random r = new Random(seed);
        SimGpu gpu = new SimGpu(Rig.SMALL);
        Vgpu a = new Vgpu(gpu, Rig.PARTITION, PpgttConfig.STRICT);
        Vgpu b = new Vgpu(gpu, B, PpgttConfig.RELAXED.withBudget(256));
        try {
            for (int round = 0; round < 4; round++) {
                for (int i = 0; i < 300; i++) {
                    a.step(r);
                    b.step(r);
                }
                a.audit(gpu);
                b.audit(gpu);
                for (int index = 0; index < gpu.ggttEntries(); index++) {
                    if (!a.rig.ggtt.owns(index) && !b.rig.ggtt.owns(index)) {
                        assertThat(gpu.ggttRead(index)).as("host GGTT entry %d outside both partitions", index).isZero();
                    }
                }
            }
            a.rig.ggtt.reset();
            a.rig.ppgtt.reset();
            a.rig.pins.releaseIdle();
            assertThat(a.rig.guest.pinnedTotal()).as("a reset vGPU holds no pins").isZero();
        } finally {
            a.rig.close();
            b.rig.close();
            gpu.close();
        }
    }
}
