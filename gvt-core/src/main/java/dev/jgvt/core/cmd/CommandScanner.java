package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Shadows and scans one engine's workloads (gvt-g.md §3): the ring slice is copied into a reusable shadow buffer
 * and scanned there; privileged (GGTT) batch buffers are followed, copied into reusable pools while they are
 * scanned (so the bytes checked are the bytes executed) and recorded for relocation; PPGTT batch buffers are
 * skipped unless {@link ScanOptions#scanPpgttBatches()} asks for a diagnostic scan. Every rule violation ends
 * the scan with a {@link ScanRejectedException}; nothing else is thrown for anything a guest can put in memory.
 *
 * <p>Not thread-safe: one scanner per engine dispatcher. The per-command path allocates nothing: lookup is one
 * array load ({@link CommandTable}), MI_NOOP runs are skipped eight bytes at a time, handlers run only for the
 * commands whose row names one.
 */
public final class CommandScanner implements AutoCloseable {
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong QW = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Batch copies start with one page and double up to this, so a short batch never reads ahead much. */
    private static final long CHUNK = 64 * 1024;
    private static final MemorySegment ZEROS = Arena.global().allocate(16 * 1024, 64);
    private static final int MMIO_WINDOW = 2 * 1024 * 1024;
    private static final int REG_MASK = 0x7FFFFC;
    private static final int PDP_FIRST = 0x270;
    private static final int PDP_BYTES = 0x20;
    private static final int HWSP_SIZE = 4096;
    /** MI_WAIT_FOR_EVENT bits that wait on display flips: planes A/B/C and sprites A/B/C. */
    private static final int FLIP_WAIT_BITS = (1 << 1) | (1 << 9) | (1 << 15) | (1 << 2) | (1 << 10) | (1 << 20);

    private static final int[] ENGINE_BASES =
            java.util.Arrays.stream(Engine.values()).mapToInt(Engine::mmioBase).toArray();

    private static final int LENGTH_BITS = 31 << 11;
    private static final int VAR8 = 8 << 11;

    private static final int CONTINUE = 0;
    private static final int END_REGION = 1;
    private static final int NEW_REGION = 2;

    private final CommandTable table;
    private final RegisterPolicy policy;
    private final PdpLoadHook pdpHook;
    private final ScanOptions options;

    private final ShadowBuffer ringShadow = new ShadowBuffer(64 * 1024);
    private final ShadowBuffer pool1 = new ShadowBuffer(64 * 1024);
    private final ShadowBuffer pool2 = new ShadowBuffer(64 * 1024);
    private final ShadowBatches batches = new ShadowBatches(this);
    private long ringShadowBytes;
    /** Commands (MI_NOOPs one by one) the scans accepted so far. */
    private long commands;

    private final long[] pdpGuest = new long[4];
    private final long[] pdpShadow = new long[4];
    private final int[] pdpDword = new int[8];

    // the workload
    private WorkloadContext ctx;
    private Engine engine;
    private int[] lookup;
    private long ringStart;
    private long ringSize;
    private long ringHead;
    private int batchesStarted;
    private final long[] poolHigh = new long[3];
    private long workloadBytes;

    // the buffer being scanned
    private ShadowBuffer buf;
    private int bufId;
    private BufferKind kind;
    private long regionStart;
    private long limit;
    private long regionGma;
    private long gmaLimit;
    private long unmappedAt;
    private long chunk;
    private boolean regionPpgtt;
    private GraphicsMemory regionMemory;
    private int record;

    public CommandScanner(CommandTable table, RegisterPolicy policy, PdpLoadHook pdpHook, ScanOptions options) {
        this.table = requireNonNull(table, "table is null");
        this.policy = requireNonNull(policy, "policy is null");
        this.pdpHook = requireNonNull(pdpHook, "pdpHook is null");
        this.options = requireNonNull(options, "options is null");
    }

    /** A Gen9 scanner with the default register policy, no shadow PPGTT and GVT-g's default options. */
    public static CommandScanner gen9() {
        return new CommandScanner(CommandTable.gen9(), Gen9RegisterPolicy.load(), PdpLoadHook.REJECT,
                ScanOptions.defaults());
    }

    /**
     * Copies the ring slice [head, tail) (wrapping at the ring end) through the GGTT into the shadow ring and
     * scans it together with every batch buffer it starts.
     *
     * @param start ring start (GGTT address, 4 KiB aligned)
     * @param size ring size in bytes (multiple of 4 KiB, at most 2 MiB)
     * @param head offset of the first command from {@code start}
     * @param tail offset where the guest's commands end
     */
    public void scanRing(WorkloadContext context, long start, long size, long head, long tail)
            throws ScanRejectedException {
        begin(context);
        ringStart = start;
        ringSize = size;
        ringHead = head;
        kind = BufferKind.RING;
        regionGma = start;
        if ((start & 0xFFF) != 0 || size <= 0 || (size & 0xFFF) != 0 || size > MMIO_WINDOW || head < 0 || head >= size
                || tail < 0 || tail >= size || (head & 3) != 0 || (tail & 3) != 0) {
            throw reject(Rule.BAD_RING, "RING", 0, String.format(
                    "start 0x%x, size 0x%x, head 0x%x, tail 0x%x", start, size, head, tail));
        }
        if (!context.partition().containsGm(start, size)) {
            throw reject(Rule.GM_OUT_OF_RANGE, "RING", 0, String.format("ring [0x%x, 0x%x) is outside %s and %s",
                    start, start + size, context.partition().aperture(), context.partition().hidden()));
        }
        long bytes = head <= tail ? tail - head : size - head + tail;
        ringShadow.ensureCapacity(bytes, 0);
        try {
            if (head <= tail) {
                if (bytes > 0) {
                    context.ggtt().copy(start + head, ringShadow.seg, 0, bytes);
                }
            } else {
                context.ggtt().copy(start + head, ringShadow.seg, 0, size - head);
                if (tail > 0) {
                    context.ggtt().copy(start, ringShadow.seg, size - head, tail);
                }
            }
        } catch (GmUnmappedException e) {
            throw reject(Rule.GM_UNMAPPED, "RING", 0, String.format("ring page at 0x%x is not mapped", e.address()));
        }
        ringShadowBytes = bytes;
        buf = ringShadow;
        bufId = ShadowBatches.RING;
        regionStart = 0;
        limit = bytes;
        regionPpgtt = false;
        regionMemory = context.ggtt();
        run();
    }

    /**
     * Scans a privileged (GGTT) first-level batch buffer at {@code gma} and everything it starts, as if a ring
     * had started it; used for buffers handed over whole (the CLI's {@code gvt scan}).
     */
    public void scanBatch(WorkloadContext context, long gma) throws ScanRejectedException {
        begin(context);
        ringShadowBytes = 0;
        ringStart = gma;
        ringSize = 0;
        kind = BufferKind.BATCH;
        regionGma = gma;
        buf = ringShadow;
        bufId = ShadowBatches.RING;
        regionStart = 0;
        limit = 0;
        enterBatch(gma, false, BufferKind.BATCH, ShadowBatches.RING, -1, "MI_BATCH_BUFFER_START", 0);
        run();
    }

    private void begin(WorkloadContext context) {
        this.ctx = requireNonNull(context, "context is null");
        this.engine = context.engine();
        this.lookup = table.lookupArray(engine);
        batches.clear();
        batchesStarted = 0;
        workloadBytes = 0;
        unmappedAt = -1;
        java.util.Arrays.fill(pdpGuest, 0);
        java.util.Arrays.fill(poolHigh, 0);
    }

    /** The shadow ring of the last {@link #scanRing} (valid until the next scan). */
    public MemorySegment shadowRing() {
        return ringShadow.seg.asSlice(0, ringShadowBytes);
    }

    /**
     * Commands walked by every scan this scanner completed (ring and batch commands; a run of MI_NOOPs counts one
     * per dword; a rejected scan's commands are not counted).
     */
    public long commandsScanned() {
        return commands;
    }

    /** The batch buffers the last scan shadowed. */
    public ShadowBatches batches() {
        return batches;
    }

    MemorySegment pool(int id) {
        return switch (id) {
            case ShadowBatches.FIRST_LEVEL_POOL -> pool1.seg;
            case ShadowBatches.SECOND_LEVEL_POOL -> pool2.seg;
            default -> ringShadow.seg;
        };
    }

    public CommandTable table() {
        return table;
    }

    @Override
    public void close() {
        ringShadow.close();
        pool1.close();
        pool2.close();
    }

    // ------------------------------------------------------------------------------------------------ the loop

    /** Scans the current buffer until its end (ring: tail; batch: MI_BATCH_BUFFER_END or a chain out). */
    private void run() throws ScanRejectedException {
        int[] ops = lookup;
        long pos = regionStart;
        MemorySegment seg = buf.seg;
        long lim = limit;
        long count = 0;
        while (true) {
            if (pos + 4 > lim) {
                if (kind == BufferKind.RING && pos == lim) {
                    commands += count;
                    return;
                }
                refill(pos + 4, pos, "UNKNOWN");
                seg = buf.seg;
                lim = limit;
            }
            int header = seg.get(DW, pos);
            int entry = ops[header >>> 16];
            // plain commands (8-bit length field, no handler) in a tight inner loop; it leaves with the header
            // and entry of the first command that needs more, or of a plain one whose successor is not copied yet
            while ((entry & (LENGTH_BITS | CommandTable.SLOW_PATH)) == VAR8) {
                long next = pos + (((header & 0xFF) + 2L) << 2);
                if (next + 4 > lim) {
                    break;
                }
                pos = next;
                header = seg.get(DW, pos);
                entry = ops[header >>> 16];
                count++;
            }
            int len;
            if ((entry & LENGTH_BITS) == VAR8) {
                // most commands have an 8-bit length field: a predicted branch takes the table load off the
                // path from one header to the next
                len = (header & 0xFF) + 2;
            } else if (header == 0) {
                long end = skipNoops(seg, pos + 4, lim);
                count += (end - pos) >>> 2;
                pos = end;
                continue;
            } else if (entry == 0) {
                throw unknown(header, pos);
            } else {
                len = CommandTable.length(entry, header);
            }
            long next = pos + ((long) len << 2);
            if (next > lim) {
                refill(next, pos, table.def(entry).name());
                seg = buf.seg;
                lim = limit;
            }
            count++;
            if ((entry & CommandTable.SLOW_PATH) != 0) {
                int action = handle(entry, header, pos, len);
                if (action == END_REGION) {
                    commands += count;
                    return;
                }
                if (action == NEW_REGION) {
                    pos = regionStart;
                    seg = buf.seg;
                    lim = limit;
                    continue;
                }
                seg = buf.seg;
                lim = limit;
            }
            pos = next;
        }
    }

    /** The end of a run of MI_NOOPs starting at {@code pos} (short runs inline, long runs vectorized). */
    private static long skipNoops(MemorySegment seg, long pos, long lim) {
        for (int i = 0; i < 4; i++) {
            if (pos + 8 > lim || seg.get(QW, pos) != 0) {
                return pos;
            }
            pos += 8;
        }
        while (pos < lim) {
            long n = Math.min(lim - pos, ZEROS.byteSize());
            long m = MemorySegment.mismatch(seg, pos, pos + n, ZEROS, 0, n);
            if (m >= 0) {
                return pos + (m & ~3L);
            }
            pos += n;
        }
        return pos;
    }

    /** Makes at least {@code needed} bytes of the current batch available (copying more of it), or rejects. */
    private void refill(long needed, long cmdPos, String name) throws ScanRejectedException {
        if (kind == BufferKind.RING) {
            throw reject(Rule.PAST_BUFFER_END, name, cmdPos, String.format(
                    "the command needs 0x%x bytes but the ring slice ends after 0x%x", needed - cmdPos, limit - cmdPos));
        }
        while (limit < needed) {
            long copiedGma = regionGma + (limit - regionStart);
            long end = (copiedGma + Math.max(needed - limit, chunk) + 0xFFF) & ~0xFFFL;
            chunk = Math.min(chunk * 2, CHUNK);
            if (end > gmaLimit || end < copiedGma) {
                end = gmaLimit;
            }
            long n = end - copiedGma;
            if (n <= 0) {
                if (unmappedAt >= 0 && copiedGma >= unmappedAt) {
                    throw reject(Rule.GM_UNMAPPED, name, cmdPos, String.format(
                            "batch buffer continues into unmapped graphics memory at 0x%x", unmappedAt));
                }
                if (copiedGma - regionGma >= options.maxBatchBytes()) {
                    throw reject(Rule.BATCH_TOO_LARGE, name, cmdPos, String.format(
                            "no MI_BATCH_BUFFER_END within 0x%x bytes", options.maxBatchBytes()));
                }
                throw reject(Rule.GM_OUT_OF_RANGE, name, cmdPos, String.format(
                        "batch buffer runs past the end of the vGPU's range at 0x%x", gmaLimit));
            }
            if (workloadBytes + n > options.maxWorkloadBytes()) {
                throw reject(Rule.BATCH_TOO_LARGE, name, cmdPos, String.format(
                        "the workload's batch buffers exceed 0x%x bytes", options.maxWorkloadBytes()));
            }
            buf.ensureCapacity(limit + n, limit);
            try {
                regionMemory.copy(copiedGma, buf.seg, limit, n);
                limit += n;
                workloadBytes += n;
            } catch (GmUnmappedException e) {
                long got = Math.clamp(e.address() - copiedGma, 0, n);
                limit += got;
                workloadBytes += got;
                unmappedAt = copiedGma + got;
                gmaLimit = unmappedAt;
            }
        }
    }

    private ScanRejectedException unknown(int header, long pos) {
        CommandDef other = table.findOnAnyEngine(header);
        if (other != null) {
            return reject(Rule.WRONG_ENGINE, other.name(), pos, String.format(
                    "header 0x%08x is %s, which is not a command of %s", header, other.name(), engine));
        }
        return reject(Rule.UNKNOWN_COMMAND, "UNKNOWN", pos, String.format(
                "header 0x%08x is not a command of %s", header, engine));
    }

    private ScanRejectedException reject(Rule rule, String name, long pos, String detail) {
        long offset;
        long address;
        if (kind == BufferKind.RING) {
            offset = ringSize > 0 ? (ringHead + pos - regionStart) % ringSize : pos - regionStart;
            address = ringStart;
        } else {
            offset = pos - regionStart;
            address = regionGma;
        }
        return new ScanRejectedException(rule, name, offset, kind, address, detail);
    }

    // -------------------------------------------------------------------------------------------- batch buffers

    private void enterBatch(long gma, boolean ppgtt, BufferKind level, int parent, long parentPos, String name,
            long cmdPos) throws ScanRejectedException {
        if (batchesStarted >= options.maxBatches()) {
            throw reject(Rule.TOO_MANY_BATCHES, name, cmdPos, "more than " + options.maxBatches()
                    + " batch buffers in one workload");
        }
        long rangeEnd;
        if (ppgtt) {
            rangeEnd = gma + options.maxBatchBytes();
        } else {
            GmRange range = rangeOf(gma);
            if (range == null) {
                throw reject(Rule.GM_OUT_OF_RANGE, name, cmdPos, String.format(
                        "batch buffer at 0x%x is outside %s and %s", gma, ctx.partition().aperture(),
                        ctx.partition().hidden()));
            }
            rangeEnd = Math.min(range.end(), gma + options.maxBatchBytes());
        }
        batchesStarted++;
        ShadowBuffer pool = level == BufferKind.BATCH ? pool1 : pool2;
        int poolId = level == BufferKind.BATCH ? ShadowBatches.FIRST_LEVEL_POOL : ShadowBatches.SECOND_LEVEL_POOL;
        long start = (poolHigh[poolId] + 7) & ~7L;
        buf = pool;
        bufId = poolId;
        kind = level;
        regionStart = start;
        limit = start;
        regionGma = gma;
        gmaLimit = rangeEnd;
        unmappedAt = -1;
        chunk = 4096;
        regionPpgtt = ppgtt;
        regionMemory = ppgtt ? ctx.ppgtt() : ctx.ggtt();
        record = batches.add(gma, ppgtt, poolId, start, parent, parentPos);
    }

    private GmRange rangeOf(long gma) {
        GmRange aperture = ctx.partition().aperture();
        if (aperture.contains(gma, 4)) {
            return aperture;
        }
        GmRange hidden = ctx.partition().hidden();
        return hidden.contains(gma, 4) ? hidden : null;
    }

    private void endBatch(long endPos) {
        batches.setSize(record, endPos - regionStart);
        poolHigh[bufId] = Math.max(poolHigh[bufId], limit);
    }

    private boolean scanned(boolean ppgtt) {
        return !ppgtt || (options.scanPpgttBatches() && ctx.ppgtt() != null);
    }

    /** Scans a called batch (1st level from the ring, 2nd level from a batch) and returns to the caller. */
    private void call(long gma, boolean ppgtt, BufferKind level, long cmdPos) throws ScanRejectedException {
        if (!scanned(ppgtt)) {
            return;
        }
        ShadowBuffer savedBuf = buf;
        int savedBufId = bufId;
        BufferKind savedKind = kind;
        long savedStart = regionStart;
        long savedLimit = limit;
        long savedGma = regionGma;
        long savedGmaLimit = gmaLimit;
        long savedUnmapped = unmappedAt;
        long savedChunk = chunk;
        boolean savedPpgtt = regionPpgtt;
        GraphicsMemory savedMemory = regionMemory;
        int savedRecord = record;
        enterBatch(gma, ppgtt, level, savedBufId, cmdPos, "MI_BATCH_BUFFER_START", cmdPos);
        run();
        buf = savedBuf;
        bufId = savedBufId;
        kind = savedKind;
        regionStart = savedStart;
        limit = savedLimit;
        regionGma = savedGma;
        gmaLimit = savedGmaLimit;
        unmappedAt = savedUnmapped;
        chunk = savedChunk;
        regionPpgtt = savedPpgtt;
        regionMemory = savedMemory;
        record = savedRecord;
    }

    // ------------------------------------------------------------------------------------------------ handlers

    private int dw(long pos, int index) {
        return buf.seg.get(DW, pos + 4L * index);
    }

    private void setDw(long pos, int index, int value) {
        buf.seg.set(DW, pos + 4L * index, value);
    }

    private int handle(int entry, int header, long pos, int len) throws ScanRejectedException {
        int single = (entry >>> 16) & 0xFF;
        if ((entry & LENGTH_BITS) != 0 && single != 0 && len != single) {
            throw reject(Rule.BAD_LENGTH, name(entry), pos, name(entry) + " must be " + single
                    + " dwords, the header says " + len);
        }
        switch (CommandTable.handler(entry)) {
            case NONE -> {}
            case REJECT -> throw reject(Rule.FORBIDDEN_COMMAND, name(entry), pos, name(entry)
                    + " is not allowed in a guest workload");
            case BB_START -> {
                return batchStart(entry, header, pos, len);
            }
            case BB_END -> {
                if (kind == BufferKind.RING) {
                    throw reject(Rule.BB_END_IN_RING, name(entry), pos, "MI_BATCH_BUFFER_END outside a batch buffer");
                }
                endBatch(pos + 4);
                return END_REGION;
            }
            case LOAD_REGISTER_IMM -> loadRegisterImm(entry, pos, len);
            case STORE_REGISTER_MEM, LOAD_REGISTER_MEM -> registerMem(entry, header, pos);
            case LOAD_REGISTER_REG -> {
                int src = dw(pos, 1) & REG_MASK;
                int dst = dw(pos, 2) & REG_MASK;
                if (!policy.registerCopyAllowed(src, dst)) {
                    throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, String.format(
                            "copy from register 0x%x to 0x%x is not allowed", src, dst));
                }
            }
            case STORE_DATA_IMM -> storeDataImm(entry, header, pos, len);
            case FLUSH_DW -> flushDw(entry, header, pos, len);
            case PIPE_CONTROL -> pipeControl(entry, pos, len);
            case ATOMIC -> {
                if (len < 3) {
                    throw badLength(entry, pos, len, "at least 3");
                }
                if ((header & (1 << 22)) != 0) {
                    audit(entry, pos, address(pos, 1), 4 << ((header >>> 19) & 3), "atomic operand");
                }
            }
            case SEMAPHORE_WAIT -> {
                if (len != 4 && len != 5) {
                    throw badLength(entry, pos, len, "4 or 5");
                }
                if ((header & (1 << 22)) != 0) {
                    audit(entry, pos, address(pos, 2), 4, "semaphore");
                }
            }
            case USER_INTERRUPT -> {
                ctx.events().userInterrupt(engine);
                setDw(pos, 0, 0);
            }
            case WAIT_FOR_EVENT -> {
                int bits = header & FLIP_WAIT_BITS;
                if (bits != 0) {
                    ctx.events().flipWait(engine, bits);
                    setDw(pos, 0, 0);
                }
            }
            case DISPLAY_FLIP -> displayFlip(entry, header, pos, len);
            case GGTT_ADDRESS -> {
                int addr = table.def(entry).addressDwords();
                for (int i = 1; i < 31; i++) {
                    if ((addr & (1 << i)) != 0) {
                        if (i + 1 >= len) {
                            throw badLength(entry, pos, len, "at least " + (i + 2));
                        }
                        audit(entry, pos, address(pos, i), 4, "memory operand");
                    }
                }
            }
        }
        return CONTINUE;
    }

    private String name(int entry) {
        return table.def(entry).name();
    }

    private ScanRejectedException badLength(int entry, long pos, int len, String expected) {
        return reject(Rule.BAD_LENGTH, name(entry), pos, name(entry) + " must be " + expected + " dwords, the header says "
                + len);
    }

    /** A 48-bit address from DW i (bits 31:2) and DW i+1 (bits 15:0). */
    private long address(long pos, int i) {
        return (dw(pos, i) & 0xFFFFFFFCL) | ((long) (dw(pos, i + 1) & 0xFFFF) << 32);
    }

    private void audit(int entry, long pos, long gma, long size, String what) throws ScanRejectedException {
        if (!ctx.partition().containsGm(gma, size)) {
            throw reject(Rule.GM_OUT_OF_RANGE, name(entry), pos, String.format(
                    "%s [0x%x, 0x%x) is outside the aperture %s and the hidden range %s", what, gma, gma + size,
                    ctx.partition().aperture(), ctx.partition().hidden()));
        }
    }

    private int batchStart(int entry, int header, long pos, int len) throws ScanRejectedException {
        if (len != 3) {
            throw badLength(entry, pos, len, "3");
        }
        boolean second = (header & (1 << 22)) != 0;
        boolean ppgtt = regionPpgtt || (header & (1 << 8)) != 0;
        long target = address(pos, 1);
        switch (kind) {
            case RING -> {
                if (second) {
                    throw reject(Rule.SECOND_LEVEL_FROM_RING, name(entry), pos, String.format(
                            "second-level batch 0x%x started from the ring", target));
                }
                call(target, ppgtt, BufferKind.BATCH, pos);
                return CONTINUE;
            }
            case SECOND_LEVEL_BATCH -> throw reject(Rule.BB_START_IN_SECOND_LEVEL, name(entry), pos, String.format(
                    "batch 0x%x started inside a second-level batch", target));
            case BATCH -> {
                if (second) {
                    call(target, ppgtt, BufferKind.SECOND_LEVEL_BATCH, pos);
                    return CONTINUE;
                }
                endBatch(pos + 12);
                if (!scanned(ppgtt)) {
                    return END_REGION;
                }
                enterBatch(target, ppgtt, BufferKind.BATCH, bufId, pos, name(entry), pos);
                return NEW_REGION;
            }
        }
        return CONTINUE;
    }

    private int checkedRegister(int entry, long pos, int reg, String what) throws ScanRejectedException {
        if (reg > MMIO_WINDOW - 4) {
            throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, String.format(
                    "%s register 0x%x is outside the 2 MiB MMIO window", what, reg));
        }
        return reg;
    }

    private void loadRegisterImm(int entry, long pos, int len) throws ScanRejectedException {
        if (len < 3 || (len & 1) == 0) {
            throw badLength(entry, pos, len, "3, 5, 7, ... (register/value pairs)");
        }
        int pdpWritten = 0;
        int base = engine.mmioBase();
        for (int i = 1; i < len; i += 2) {
            int raw = dw(pos, i);
            int reg = checkedRegister(entry, pos, raw & REG_MASK, "LRI");
            int patched = policy.patchedOffset(reg);
            if (patched >= 0) {
                setDw(pos, i, (raw & ~REG_MASK) | patched);
                continue;
            }
            if (!policy.commandAccessible(reg)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, String.format(
                        "LRI to register 0x%x (pair %d) is not command-accessible", reg, i / 2));
            }
            int page = reg & ~0xFFF;
            int inPage = reg & 0xFFF;
            if (inPage >= PDP_FIRST && inPage < PDP_FIRST + PDP_BYTES && isEngineBase(page)) {
                if (page != base) {
                    throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, String.format(
                            "LRI to page-directory pointer 0x%x of another engine", reg));
                }
                int d = (inPage - PDP_FIRST) >>> 2;
                pdpWritten |= 1 << d;
                pdpDword[d] = i + 1;
                int shift = (d & 1) * 32;
                pdpGuest[d >>> 1] = (pdpGuest[d >>> 1] & ~(0xFFFFFFFFL << shift))
                        | ((dw(pos, i + 1) & 0xFFFFFFFFL) << shift);
            }
        }
        if (pdpWritten != 0) {
            boolean ok = pdpHook.shadowRoots(engine, pdpGuest, pdpWritten, pdpShadow);
            if (!ok) {
                ScanRejectedException e = reject(Rule.PDP_LOAD_REJECTED, name(entry), pos, String.format(
                        "the shadow PPGTT refused the roots 0x%x/0x%x/0x%x/0x%x", pdpGuest[0], pdpGuest[1],
                        pdpGuest[2], pdpGuest[3]));
                java.util.Arrays.fill(pdpGuest, 0);
                throw e;
            }
            for (int d = 0; d < 8; d++) {
                if ((pdpWritten & (1 << d)) != 0) {
                    setDw(pos, pdpDword[d], (int) (pdpShadow[d >>> 1] >>> ((d & 1) * 32)));
                }
            }
            java.util.Arrays.fill(pdpGuest, 0);
        }
    }

    private static boolean isEngineBase(int page) {
        for (int base : ENGINE_BASES) {
            if (base == page) {
                return true;
            }
        }
        return false;
    }

    private void registerMem(int entry, int header, long pos) throws ScanRejectedException {
        int reg = checkedRegister(entry, pos, dw(pos, 1) & REG_MASK, name(entry));
        if (!policy.memoryTransferAllowed(reg)) {
            throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, String.format(
                    "register 0x%x may not be loaded from or stored to memory", reg));
        }
        if ((header & (1 << 22)) != 0) {
            audit(entry, pos, address(pos, 2), 4, "register memory operand");
        }
    }

    private void storeDataImm(int entry, int header, long pos, int len) throws ScanRejectedException {
        if (len < 4) {
            throw badLength(entry, pos, len, "at least 4");
        }
        if ((header & (1 << 22)) != 0) {
            int dw1 = dw(pos, 1);
            long size = Math.max((len - 3) * 4L, (header & (1 << 21)) != 0 ? 8 : 4);
            if ((dw1 & 1) != 0) {
                size *= 2; // core-select stores land one operand further: audit both
            }
            audit(entry, pos, address(pos, 1), size, "store");
        }
    }

    /** A post-sync write in index mode: offset into the HWSP, rewritten to an absolute GGTT address. */
    private long hwspAddress(int entry, long pos, long offset) throws ScanRejectedException {
        if (offset < 0 || offset > HWSP_SIZE - 8) {
            throw reject(Rule.HWSP_INDEX_OUT_OF_PAGE, name(entry), pos, String.format(
                    "index 0x%x + 8 bytes leaves the 4 KiB hardware status page", offset));
        }
        return ctx.hwspAddress() + offset;
    }

    private void flushDw(int entry, int header, long pos, int len) throws ScanRejectedException {
        int postSync = (header >>> 14) & 3;
        if (postSync != 0) {
            if (len < 4) {
                throw badLength(entry, pos, len, "at least 4 with a post-sync operation");
            }
            int dw1 = dw(pos, 1);
            long gma = (dw1 & 0xFFFFFFF8L) | ((long) (dw(pos, 2) & 0xFFFF) << 32);
            if ((header & (1 << 21)) != 0) {
                long abs = hwspAddress(entry, pos, gma);
                setDw(pos, 0, header & ~(1 << 21));
                setDw(pos, 1, (int) (abs & 0xFFFFFFF8L) | (dw1 & 3) | (1 << 2));
                setDw(pos, 2, (dw(pos, 2) & ~0xFFFF) | (int) ((abs >>> 32) & 0xFFFF));
            } else if ((dw1 & (1 << 2)) != 0) {
                audit(entry, pos, gma, 8, "post-sync write");
            }
        }
        if ((header & (1 << 8)) != 0) {
            ctx.events().flushDwNotify(engine);
        }
    }

    private void pipeControl(int entry, long pos, int len) throws ScanRejectedException {
        if (len < 2) {
            throw badLength(entry, pos, len, "at least 2");
        }
        int dw1 = dw(pos, 1);
        int postSync = (dw1 >>> 14) & 3;
        boolean mmioWrite = (dw1 & (1 << 23)) != 0;
        if ((postSync != 0 || mmioWrite) && len < 4) {
            throw badLength(entry, pos, len, "at least 4 with a post-sync operation");
        }
        if (mmioWrite) {
            int raw = dw(pos, 2);
            int reg = checkedRegister(entry, pos, raw & REG_MASK, "post-sync");
            int patched = policy.patchedOffset(reg);
            if (patched >= 0) {
                setDw(pos, 2, (raw & ~REG_MASK) | patched);
            } else if (!policy.commandAccessible(reg)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, String.format(
                        "post-sync MMIO write to register 0x%x is not command-accessible", reg));
            }
        }
        if (postSync != 0) {
            if (postSync == 2 && !policy.commandAccessible(0x2350)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, "PS_DEPTH_COUNT (0x2350) is not accessible");
            }
            if (postSync == 3 && !policy.commandAccessible(0x2358)) {
                throw reject(Rule.REGISTER_NOT_ALLOWED, name(entry), pos, "TIMESTAMP (0x2358) is not accessible");
            }
            long gma = address(pos, 2);
            if ((dw1 & (1 << 21)) != 0) {
                long abs = hwspAddress(entry, pos, gma);
                setDw(pos, 1, (dw1 & ~(1 << 21)) | (1 << 24));
                setDw(pos, 2, (int) (abs & 0xFFFFFFFCL) | (dw(pos, 2) & 3));
                setDw(pos, 3, (dw(pos, 3) & ~0xFFFF) | (int) ((abs >>> 32) & 0xFFFF));
            } else if ((dw1 & (1 << 24)) != 0) {
                audit(entry, pos, gma, 8, "post-sync write");
            }
        }
        if ((dw1 & (1 << 8)) != 0) {
            ctx.events().pipeControlNotify(engine);
        }
    }

    private void displayFlip(int entry, int header, long pos, int len) throws ScanRejectedException {
        if (len != 3 && len != 4) {
            throw badLength(entry, pos, len, "3 or 4");
        }
        int dw1 = dw(pos, 1);
        int dw2 = dw(pos, 2);
        ctx.events().displayFlip(engine, (header >>> 8) & 0x1F, dw2 & 0xFFFFF000L, (dw1 >>> 6) & 0x3FF, dw1 & 7,
                (dw2 & 3) == 1);
        for (int i = 0; i < len; i++) {
            setDw(pos, i, 0);
        }
    }
}
