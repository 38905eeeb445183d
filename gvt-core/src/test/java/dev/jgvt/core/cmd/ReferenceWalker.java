package dev.jgvt.core.cmd;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.VgpuPartition;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An independent model of what the GPU would do with an accepted workload: it walks what will execute (the
 * shadow ring and the shadow batches, following each MI_BATCH_BUFFER_START to the shadow copy recorded for it)
 * and lists every violation of the security properties: a GGTT access outside the vGPU's ranges (other than the
 * rewritten HWSP page), a privileged batch that would run unscanned, a register write outside the policy, a
 * forbidden or unpatched command, a buffer without an end. It shares only the command lengths (table data) and
 * the register policy (an input) with the scanner, none of its logic.
 */
final class ReferenceWalker {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Set<String> FORBIDDEN = Set.of("MI_UPDATE_GTT", "MI_STORE_DATA_INDEX", "MI_CLFLUSH",
            "MI_REPORT_PERF_COUNT", "MI_CONDITIONAL_BATCH_BUFFER_END", "MI_SET_CONTEXT", "MI_COPY_MEM_MEM",
            "MI_LOAD_REGISTER_REG", "MI_USER_INTERRUPT", "MI_DISPLAY_FLIP");
    private static final int RING = 0;
    private static final int FIRST = 1;
    private static final int SECOND = 2;

    private final CommandTable table;
    private final RegisterPolicy policy;
    private final VgpuPartition partition;
    private final long hwsp;
    private final Engine engine;
    private final ShadowBatches batches;
    final List<String> violations = new ArrayList<>();
    private int steps;

    ReferenceWalker(CommandTable table, RegisterPolicy policy, VgpuPartition partition, long hwsp, Engine engine,
            ShadowBatches batches) {
        this.table = table;
        this.policy = policy;
        this.partition = partition;
        this.hwsp = hwsp;
        this.engine = engine;
        this.batches = batches;
    }

    void walkRing(MemorySegment ring) {
        walk(ring, RING, 0, RING);
    }

    /** Walks batch {@code index} as a first-level batch (for a top-level scanBatch). */
    void walkBatch(int index) {
        walk(batches.shadow(index), batches.pool(index), batches.shadowOffset(index), FIRST);
    }

    private void violation(String what, long offset, int header) {
        violations.add(String.format("%s at 0x%x (header 0x%08x)", what, offset, header));
    }

    /** Returns true when the buffer ended by handing over to a chained batch or a BB_END. */
    private boolean walk(MemorySegment seg, int bufferId, long baseOffset, int level) {
        long pos = 0;
        long size = seg.byteSize();
        while (pos < size) {
            if (++steps > 10_000_000) {
                violation("walk does not terminate", pos, 0);
                return true;
            }
            int h = seg.get(DW, pos);
            CommandDef def = table.find(engine, h);
            if (def == null) {
                violation("unknown command executed", pos, h);
                return true;
            }
            int len = def.length(h);
            if (pos + 4L * len > size) {
                violation(def.name() + " runs past its buffer", pos, h);
                return true;
            }
            String name = def.name();
            if (FORBIDDEN.contains(name)) {
                violation(name + " executed", pos, h);
            }
            switch (name) {
                case "MI_BATCH_BUFFER_END" -> {
                    if (level == RING) {
                        violation("batch end in the ring", pos, h);
                    }
                    return true;
                }
                case "MI_BATCH_BUFFER_START" -> {
                    Boolean endsHere = batchStart(seg, bufferId, baseOffset, level, pos, h, len);
                    if (endsHere) {
                        return true;
                    }
                }
                case "MI_LOAD_REGISTER_IMM" -> {
                    for (int i = 1; i + 1 < len; i += 2) {
                        int reg = seg.get(DW, pos + 4L * i) & 0x7FFFFC;
                        if (reg != Gen9RegisterPolicy.PATCH_TARGET && (!policy.commandAccessible(reg)
                                || policy.patchedOffset(reg) >= 0)) {
                            violation(String.format("LRI reaches register 0x%x", reg), pos, h);
                        }
                    }
                }
                case "MI_STORE_DATA_IMM" -> {
                    if ((h & (1 << 22)) != 0) {
                        long data = Math.max(4L * (len - 3), (h & (1 << 21)) != 0 ? 8 : 4);
                        boolean core = (seg.get(DW, pos + 4) & 1) != 0; // core select: the second operand slot
                        gtt(pos, h, addr(seg, pos, 1), core ? 2 * data : data);
                    }
                }
                case "MI_FLUSH_DW" -> {
                    if (((h >>> 14) & 3) != 0) {
                        if ((h & (1 << 21)) != 0) {
                            violation("index-mode flush left in place", pos, h);
                        }
                        int dw1 = seg.get(DW, pos + 4);
                        if ((dw1 & 4) != 0) {
                            gttOrHwsp(pos, h, (dw1 & 0xFFFFFFF8L) | ((long) (seg.get(DW, pos + 8) & 0xFFFF) << 32), 8);
                        }
                    }
                }
                case "PIPE_CONTROL" -> {
                    int dw1 = seg.get(DW, pos + 4);
                    if ((dw1 & (1 << 23)) != 0) {
                        int reg = seg.get(DW, pos + 8) & 0x7FFFFC;
                        if (reg != Gen9RegisterPolicy.PATCH_TARGET && !policy.commandAccessible(reg)) {
                            violation(String.format("post-sync MMIO write to 0x%x", reg), pos, h);
                        }
                    }
                    if (((dw1 >>> 14) & 3) != 0) {
                        if ((dw1 & (1 << 21)) != 0) {
                            violation("index-mode pipe control left in place", pos, h);
                        }
                        if ((dw1 & (1 << 24)) != 0) {
                            gttOrHwsp(pos, h, addr(seg, pos, 2), 8);
                        }
                    }
                }
                case "MI_ATOMIC" -> {
                    if ((h & (1 << 22)) != 0) {
                        gtt(pos, h, addr(seg, pos, 1), 4L << ((h >>> 19) & 3));
                    }
                }
                case "MI_STORE_REGISTER_MEM", "MI_LOAD_REGISTER_MEM" -> {
                    int reg = seg.get(DW, pos + 4) & 0x7FFFFC;
                    if (!policy.memoryTransferAllowed(reg)) {
                        violation(String.format("%s names register 0x%x", name, reg), pos, h);
                    }
                    if ((h & (1 << 22)) != 0) {
                        gtt(pos, h, addr(seg, pos, 2), 4);
                    }
                }
                case "MI_SEMAPHORE_WAIT" -> {
                    if ((h & (1 << 22)) != 0) {
                        gtt(pos, h, addr(seg, pos, 2), 4);
                    }
                }
                case "MI_STORE_URB_MEM", "MI_LOAD_URB_MEM" -> gtt(pos, h, addr(seg, pos, 2), 4);
                case "MI_RS_STORE_DATA_IMM" -> gtt(pos, h, addr(seg, pos, 1), 4);
                case "MI_WAIT_FOR_EVENT" -> {
                    if ((h & ((1 << 1) | (1 << 9) | (1 << 15) | (1 << 2) | (1 << 10) | (1 << 20))) != 0) {
                        violation("flip wait left in place", pos, h);
                    }
                }
                default -> { }
            }
            pos += 4L * len;
        }
        if (level != RING) {
            violation("batch without an end", pos, 0);
        }
        return true;
    }

    private Boolean batchStart(MemorySegment seg, int bufferId, long baseOffset, int level, long pos, int h, int len) {
        if (len != 3) {
            violation("batch start of length " + len, pos, h);
            return true;
        }
        boolean second = (h & (1 << 22)) != 0;
        boolean ppgtt = (h & (1 << 8)) != 0;
        long target = addr(seg, pos, 1);
        if (level == SECOND) {
            violation("batch start inside a second-level batch", pos, h);
            return true;
        }
        if (level == RING && second) {
            violation("second-level batch from the ring", pos, h);
            return true;
        }
        boolean chained = level == FIRST && !second;
        if (ppgtt) {
            return chained; // runs in the guest's shadowed PPGTT; a chain leaves this buffer for good
        }
        if (!partition.containsGm(target, 4)) {
            violation(String.format("privileged batch at 0x%x outside the vGPU", target), pos, h);
        }
        int found = -1;
        for (int i = 0; i < batches.count(); i++) {
            if (batches.parentBuffer(i) == bufferId && batches.parentOffset(i) == baseOffset + pos) {
                found = i;
            }
        }
        if (found < 0 || batches.guestAddress(found) != target || batches.ppgtt(found)) {
            violation(String.format("privileged batch at 0x%x would run unscanned", target), pos, h);
            return true;
        }
        if (!partition.containsGm(target, batches.size(found))) {
            violation(String.format("privileged batch [0x%x, +0x%x) leaves the vGPU", target, batches.size(found)),
                    pos, h);
        }
        walk(batches.shadow(found), batches.pool(found), batches.shadowOffset(found), second ? SECOND : FIRST);
        return chained;
    }

    private static long addr(MemorySegment seg, long pos, int i) {
        return (seg.get(DW, pos + 4L * i) & 0xFFFFFFFCL) | ((long) (seg.get(DW, pos + 4L * i + 4) & 0xFFFF) << 32);
    }

    private void gtt(long pos, int h, long gma, long size) {
        if (!partition.containsGm(gma, size)) {
            violation(String.format("GGTT access [0x%x, +%d) outside the vGPU", gma, size), pos, h);
        }
    }

    private void gttOrHwsp(long pos, int h, long gma, long size) {
        if (gma >= hwsp && gma + size <= hwsp + 4096) {
            return;
        }
        gtt(pos, h, gma, size);
    }
}
