package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The per-command checks of the commands that reach memory or registers (gvt-g.md §3.6–3.8): register policy for
 * LRI/SRM/LRM/LRR and PIPE_CONTROL MMIO writes, GGTT address audits, index-mode rewrites to the shadow context's
 * status page, PDP loads through the shadow PPGTT hook, and the patched commands that become virtual events. The
 * commands are read and patched in the shadow copy the scanner walks ({@code seg} at {@code pos}).
 *
 * <p>One auditor per {@link CommandScanner}; {@link #begin} binds it to a workload. Nothing is allocated per command.
 */
final class CommandAuditor {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int MMIO_WINDOW = 2 * 1024 * 1024;
    private static final int REG_MASK = 0x7FFFFC;
    private static final int PDP_FIRST = 0x270;
    private static final int PDP_BYTES = 0x20;
    private static final int HWSP_SIZE = 4096;
    /** MI_WAIT_FOR_EVENT bits that wait on display flips: planes A/B/C and sprites A/B/C. */
    private static final int FLIP_WAIT_BITS = (1 << 1) | (1 << 9) | (1 << 15) | (1 << 2) | (1 << 10) | (1 << 20);
    /** DW0 bit 22 of MI_STORE_DATA_IMM, MI_ATOMIC, SRM/LRM and MI_SEMAPHORE_WAIT: the address is a GGTT address. */
    private static final int USE_GGTT = 1 << 22;
    private static final int[] ENGINE_BASES =
            java.util.Arrays.stream(Engine.values()).mapToInt(Engine::mmioBase).toArray();

    private final CommandScanner scanner;
    private final CommandTable table;
    private final RegisterPolicy policy;
    private final PdpLoadHook pdpHook;

    private final long[] pdpGuest = new long[4];
    private final long[] pdpShadow = new long[4];
    private final int[] pdpDword = new int[8];

    private WorkloadContext ctx;
    private Engine engine;

    CommandAuditor(CommandScanner scanner, CommandTable table, RegisterPolicy policy, PdpLoadHook pdpHook) {
        this.scanner = requireNonNull(scanner, "scanner is null");
        this.table = requireNonNull(table, "table is null");
        this.policy = requireNonNull(policy, "policy is null");
        this.pdpHook = requireNonNull(pdpHook, "pdpHook is null");
    }

    void begin(WorkloadContext context) {
        this.ctx = context;
        this.engine = context.engine();
        java.util.Arrays.fill(pdpGuest, 0);
    }

    private static int dw(MemorySegment seg, long pos, int index) {
        return seg.get(DW, pos + 4L * index);
    }

    private static void setDw(MemorySegment seg, long pos, int index, int value) {
        seg.set(DW, pos + 4L * index, value);
    }

    private String name(int entry) {
        return table.def(entry).name();
    }

    private ScanRejectedException reject(Rule rule, int entry, long pos, String detail) {
        return scanner.reject(rule, name(entry), pos, detail);
    }

    ScanRejectedException badLength(int entry, long pos, int len, String expected) {
        return reject(Rule.BAD_LENGTH, entry, pos, name(entry) + " must be " + expected + " dwords, the header says "
                + len);
    }

    /** The rejection of a header no row of this engine matches. */
    ScanRejectedException unknown(int header, long pos) {
        CommandDef other = table.findOnAnyEngine(header);
        if (other != null) {
            return scanner.reject(Rule.WRONG_ENGINE, other.name(), pos, String.format(
                    "header 0x%08x is %s, which is not a command of %s", header, other.name(), engine));
        }
        return scanner.reject(Rule.UNKNOWN_COMMAND, "UNKNOWN", pos, String.format(
                "header 0x%08x is not a command of %s", header, engine));
    }

    /** A 48-bit address from DW i (bits 31:2) and DW i+1 (bits 15:0). */
    static long address(MemorySegment seg, long pos, int i) {
        return (dw(seg, pos, i) & 0xFFFFFFFCL) | ((long) (dw(seg, pos, i + 1) & 0xFFFF) << 32);
    }

    private void audit(int entry, long pos, long gma, long size, String what) throws ScanRejectedException {
        if (!ctx.partition().containsGm(gma, size)) {
            throw reject(Rule.GM_OUT_OF_RANGE, entry, pos, String.format(
                    "%s [0x%x, 0x%x) is outside the aperture %s and the hidden range %s", what, gma, gma + size,
                    ctx.partition().aperture(), ctx.partition().hidden()));
        }
    }

    private int checkedRegister(int entry, long pos, int reg, String what) throws ScanRejectedException {
        if (reg > MMIO_WINDOW - 4) {
            throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, String.format(
                    "%s register 0x%x is outside the 2 MiB MMIO window", what, reg));
        }
        return reg;
    }

    /** Runs the check of a handler that neither starts nor ends a buffer. */
    void check(Handler handler, int entry, int header, MemorySegment seg, long pos, int len)
            throws ScanRejectedException {
        switch (handler) {
            case LOAD_REGISTER_IMM -> loadRegisterImm(entry, seg, pos, len);
            case STORE_REGISTER_MEM, LOAD_REGISTER_MEM -> registerMem(entry, header, seg, pos);
            case LOAD_REGISTER_REG -> loadRegisterReg(entry, seg, pos);
            case STORE_DATA_IMM -> storeDataImm(entry, header, seg, pos, len);
            case FLUSH_DW -> flushDw(entry, header, seg, pos, len);
            case PIPE_CONTROL -> pipeControl(entry, seg, pos, len);
            case ATOMIC -> atomic(entry, header, seg, pos, len);
            case SEMAPHORE_WAIT -> semaphoreWait(entry, header, seg, pos);
            case USER_INTERRUPT -> userInterrupt(seg, pos);
            case WAIT_FOR_EVENT -> waitForEvent(header, seg, pos);
            case DISPLAY_FLIP -> displayFlip(entry, header, seg, pos, len);
            case GGTT_ADDRESS -> ggttAddresses(entry, seg, pos, len);
            case MFX_WAIT -> mfxWait(entry, header, pos);
            default -> throw new IllegalStateException(handler + " is handled by the scanner");
        }
    }

    // ------------------------------------------------------------------------------------------- registers

    void loadRegisterImm(int entry, MemorySegment seg, long pos, int len) throws ScanRejectedException {
        if (len < 3 || (len & 1) == 0) {
            throw badLength(entry, pos, len, "3, 5, 7, ... (register/value pairs)");
        }
        int pdpWritten = 0;
        int base = engine.mmioBase();
        for (int i = 1; i < len; i += 2) {
            int raw = dw(seg, pos, i);
            int reg = checkedRegister(entry, pos, raw & REG_MASK, "LRI");
            int patched = policy.patchedOffset(reg);
            if (patched >= 0) {
                setDw(seg, pos, i, (raw & ~REG_MASK) | patched);
                continue;
            }
            if (!policy.commandAccessible(reg)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, String.format(
                        "LRI to register 0x%x (pair %d) is not command-accessible", reg, i / 2));
            }
            int page = reg & ~0xFFF;
            int inPage = reg & 0xFFF;
            if (inPage >= PDP_FIRST && inPage < PDP_FIRST + PDP_BYTES && isEngineBase(page)) {
                if (page != base) {
                    throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, String.format(
                            "LRI to page-directory pointer 0x%x of another engine", reg));
                }
                int d = (inPage - PDP_FIRST) >>> 2;
                pdpWritten |= 1 << d;
                pdpDword[d] = i + 1;
                int shift = (d & 1) * 32;
                pdpGuest[d >>> 1] = (pdpGuest[d >>> 1] & ~(0xFFFFFFFFL << shift))
                        | ((dw(seg, pos, i + 1) & 0xFFFFFFFFL) << shift);
            }
        }
        if (pdpWritten != 0) {
            loadPdps(entry, seg, pos, pdpWritten);
        }
    }

    private void loadPdps(int entry, MemorySegment seg, long pos, int pdpWritten) throws ScanRejectedException {
        boolean ok = pdpHook.shadowRoots(engine, pdpGuest, pdpWritten, pdpShadow);
        if (!ok) {
            ScanRejectedException e = reject(Rule.PDP_LOAD_REJECTED, entry, pos, String.format(
                    "the shadow PPGTT refused the roots 0x%x/0x%x/0x%x/0x%x", pdpGuest[0], pdpGuest[1],
                    pdpGuest[2], pdpGuest[3]));
            java.util.Arrays.fill(pdpGuest, 0);
            throw e;
        }
        for (int d = 0; d < 8; d++) {
            if ((pdpWritten & (1 << d)) != 0) {
                setDw(seg, pos, pdpDword[d], (int) (pdpShadow[d >>> 1] >>> ((d & 1) * 32)));
            }
        }
        java.util.Arrays.fill(pdpGuest, 0);
    }

    private static boolean isEngineBase(int page) {
        for (int base : ENGINE_BASES) {
            if (base == page) {
                return true;
            }
        }
        return false;
    }

    /** MI_STORE_REGISTER_MEM / MI_LOAD_REGISTER_MEM: the register pair list, then the GGTT operand. */
    void registerMem(int entry, int header, MemorySegment seg, long pos) throws ScanRejectedException {
        int reg = checkedRegister(entry, pos, dw(seg, pos, 1) & REG_MASK, name(entry));
        if (!policy.memoryTransferAllowed(reg)) {
            throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, String.format(
                    "register 0x%x may not be loaded from or stored to memory", reg));
        }
        if ((header & USE_GGTT) != 0) {
            audit(entry, pos, address(seg, pos, 2), 4, "register memory operand");
        }
    }

    void loadRegisterReg(int entry, MemorySegment seg, long pos) throws ScanRejectedException {
        int src = dw(seg, pos, 1) & REG_MASK;
        int dst = dw(seg, pos, 2) & REG_MASK;
        if (!policy.registerCopyAllowed(src, dst)) {
            throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, String.format(
                    "copy from register 0x%x to 0x%x is not allowed", src, dst));
        }
    }

    // ------------------------------------------------------------------------------------------- memory

    /**
     * MI_STORE_DATA_IMM: at least 4 dwords; a GGTT store must be 4 (a dword) or 5 (DW0 bit 21 "store qword"), as
     * GVT-g checks, and is audited over the data it writes, twice over with core-select (DW1 bit 0).
     */
    void storeDataImm(int entry, int header, MemorySegment seg, long pos, int len) throws ScanRejectedException {
        boolean qword = (header & (1 << 21)) != 0;
        if (len < 4) {
            throw badLength(entry, pos, len, "at least 4");
        }
        if ((header & USE_GGTT) != 0) {
            if (len != (qword ? 5 : 4)) {
                throw badLength(entry, pos, len, qword ? "5 (GGTT store qword)" : "4 (GGTT store dword)");
            }
            long size = qword ? 8 : 4;
            if ((dw(seg, pos, 1) & 1) != 0) {
                size *= 2; // core-select stores land one operand further: audit both
            }
            audit(entry, pos, address(seg, pos, 1), size, "store");
        }
    }

    /** MI_ATOMIC: 3 dwords, or 11 with inline data (DW0 bit 18); a GGTT operand of 4 << DW0 20:19 bytes is audited. */
    void atomic(int entry, int header, MemorySegment seg, long pos, int len) throws ScanRejectedException {
        boolean inline = (header & (1 << 18)) != 0;
        if (len != (inline ? 11 : 3)) {
            throw badLength(entry, pos, len, inline ? "11 (inline data)" : "3");
        }
        if ((header & USE_GGTT) != 0) {
            audit(entry, pos, address(seg, pos, 1), 4 << ((header >>> 19) & 3), "atomic operand");
        }
    }

    /**
     * MI_SEMAPHORE_WAIT (4 dwords on Gen9): upstream GVT-g rejects every one; we audit a GGTT poll address (the
     * posted patch) and reject a PPGTT one (DW0 bit 22 clear), which GVT-g also rejects.
     */
    void semaphoreWait(int entry, int header, MemorySegment seg, long pos) throws ScanRejectedException {
        if ((header & USE_GGTT) == 0) {
            throw reject(Rule.FORBIDDEN_COMMAND, entry, pos, String.format(
                    "MI_SEMAPHORE_WAIT polling the PPGTT address 0x%x on %s is not allowed (only GGTT polls, audited)",
                    address(seg, pos, 2), engine));
        }
        audit(entry, pos, address(seg, pos, 2), 4, "semaphore");
    }

    /** A post-sync write in index mode: offset into the HWSP, rewritten to an absolute GGTT address. */
    private long hwspAddress(int entry, long pos, long offset) throws ScanRejectedException {
        if (offset < 0 || offset > HWSP_SIZE - 8) {
            throw reject(Rule.HWSP_INDEX_OUT_OF_PAGE, entry, pos, String.format(
                    "index 0x%x + 8 bytes leaves the 4 KiB hardware status page", offset));
        }
        return ctx.hwspAddress() + offset;
    }

    /** MI_FLUSH_DW: 4 or 5 dwords (GVT-g); post-sync writes audited or rewritten to the status page; notify event. */
    void flushDw(int entry, int header, MemorySegment seg, long pos, int len) throws ScanRejectedException {
        if (len != 4 && len != 5) {
            throw badLength(entry, pos, len, "4 or 5");
        }
        int postSync = (header >>> 14) & 3;
        if (postSync != 0) {
            int dw1 = dw(seg, pos, 1);
            long gma = (dw1 & 0xFFFFFFF8L) | ((long) (dw(seg, pos, 2) & 0xFFFF) << 32);
            if ((header & (1 << 21)) != 0) {
                long abs = hwspAddress(entry, pos, gma);
                setDw(seg, pos, 0, header & ~(1 << 21));
                setDw(seg, pos, 1, (int) (abs & 0xFFFFFFF8L) | (dw1 & 3) | (1 << 2));
                setDw(seg, pos, 2, (dw(seg, pos, 2) & ~0xFFFF) | (int) ((abs >>> 32) & 0xFFFF));
            } else if ((dw1 & (1 << 2)) != 0) {
                audit(entry, pos, gma, 8, "post-sync write");
            }
        }
        if ((header & (1 << 8)) != 0) {
            ctx.events().flushDwNotify(engine);
        }
    }

    void pipeControl(int entry, MemorySegment seg, long pos, int len) throws ScanRejectedException {
        if (len < 2) {
            throw badLength(entry, pos, len, "at least 2");
        }
        int dw1 = dw(seg, pos, 1);
        int postSync = (dw1 >>> 14) & 3;
        boolean mmioWrite = (dw1 & (1 << 23)) != 0;
        if ((postSync != 0 || mmioWrite) && len < 4) {
            throw badLength(entry, pos, len, "at least 4 with a post-sync operation");
        }
        if (mmioWrite) {
            int raw = dw(seg, pos, 2);
            int reg = checkedRegister(entry, pos, raw & REG_MASK, "post-sync");
            int patched = policy.patchedOffset(reg);
            if (patched >= 0) {
                setDw(seg, pos, 2, (raw & ~REG_MASK) | patched);
            } else if (!policy.commandAccessible(reg)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, String.format(
                        "post-sync MMIO write to register 0x%x is not command-accessible", reg));
            }
        }
        if (postSync != 0) {
            if (postSync == 2 && !policy.commandAccessible(0x2350)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, "PS_DEPTH_COUNT (0x2350) is not accessible");
            }
            if (postSync == 3 && !policy.commandAccessible(0x2358)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, entry, pos, "TIMESTAMP (0x2358) is not accessible");
            }
            long gma = address(seg, pos, 2);
            if ((dw1 & (1 << 21)) != 0) {
                long abs = hwspAddress(entry, pos, gma);
                setDw(seg, pos, 1, (dw1 & ~(1 << 21)) | (1 << 24));
                setDw(seg, pos, 2, (int) (abs & 0xFFFFFFFCL) | (dw(seg, pos, 2) & 3));
                setDw(seg, pos, 3, (dw(seg, pos, 3) & ~0xFFFF) | (int) ((abs >>> 32) & 0xFFFF));
            } else if ((dw1 & (1 << 24)) != 0) {
                audit(entry, pos, gma, 8, "post-sync write");
            }
        }
        if ((dw1 & (1 << 8)) != 0) {
            ctx.events().pipeControlNotify(engine);
        }
    }

    /** A row whose address dwords are audited as 64-bit GGTT addresses of 4 bytes each. */
    void ggttAddresses(int entry, MemorySegment seg, long pos, int len) throws ScanRejectedException {
        int addr = table.def(entry).addressDwords();
        for (int i = 1; i < 31; i++) {
            if ((addr & (1 << i)) != 0) {
                if (i + 1 >= len) {
                    throw badLength(entry, pos, len, "at least " + (i + 2));
                }
                audit(entry, pos, address(seg, pos, i), 4, "memory operand");
            }
        }
    }

    /**
     * MFX_WAIT with a non-zero DWord Length field: genxml ({@code gen75.xml}, bias 1) makes it field + 1 dwords,
     * i915's parser and the media driver always one. Where the two readings differ the scanner could step over
     * dwords the engine executes, so only the form both agree on (field 0, one dword) is accepted.
     */
    void mfxWait(int entry, int header, long pos) throws ScanRejectedException {
        if ((header & 0x3F) != 0) {
            throw reject(Rule.BAD_LENGTH, entry, pos, String.format("MFX_WAIT 0x%08x has DWord Length %d: genxml would "
                    + "make it %d dwords, i915 one; only 0 (one dword) is accepted", header, header & 0x3F,
                    (header & 0x3F) + 1));
        }
    }

    // ------------------------------------------------------------------------------------------- events

    void userInterrupt(MemorySegment seg, long pos) {
        ctx.events().userInterrupt(engine);
        setDw(seg, pos, 0, 0);
    }

    void waitForEvent(int header, MemorySegment seg, long pos) {
        int bits = header & FLIP_WAIT_BITS;
        if (bits != 0) {
            ctx.events().flipWait(engine, bits);
            setDw(seg, pos, 0, 0);
        }
    }

    void displayFlip(int entry, int header, MemorySegment seg, long pos, int len) throws ScanRejectedException {
        if (len != 3 && len != 4) {
            throw badLength(entry, pos, len, "3 or 4");
        }
        int dw1 = dw(seg, pos, 1);
        int dw2 = dw(seg, pos, 2);
        ctx.events().displayFlip(engine, (header >>> 8) & 0x1F, dw2 & 0xFFFFF000L, (dw1 >>> 6) & 0x3FF, dw1 & 7,
                (dw2 & 3) == 1);
        for (int i = 0; i < len; i++) {
            setDw(seg, pos, i, 0);
        }
    }
}
