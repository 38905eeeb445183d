package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
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
    /** Batch copies start with one page and double up to this, so a short batch never reads ahead much. */
    private static final long CHUNK = 64 * 1024;

    private static final int LENGTH_BITS = 31 << 11;
    private static final int VAR8 = 8 << 11;

    private static final int CONTINUE = 0;
    private static final int END_REGION = 1;
    private static final int NEW_REGION = 2;

    private final CommandTable table;
    private final ScanOptions options;
    private final CommandAuditor auditor;

    private final ShadowBuffer ringShadow = new ShadowBuffer(64 * 1024);
    private final ShadowBuffer pool1 = new ShadowBuffer(64 * 1024);
    private final ShadowBuffer pool2 = new ShadowBuffer(64 * 1024);
    private final ShadowBatches batches = new ShadowBatches(this);
    private long ringShadowBytes;
    /** Commands (MI_NOOPs one by one) the scans accepted so far. */
    private long commands;

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
    /** The last rejection was of a command in a PPGTT batch (only possible under the diagnostic scan). */
    private boolean rejectedInPpgtt;

    public CommandScanner(CommandTable table, RegisterPolicy policy, PdpLoadHook pdpHook, ScanOptions options) {
        this.table = requireNonNull(table, "table is null");
        this.options = requireNonNull(options, "options is null");
        this.auditor = new CommandAuditor(this, table, policy, pdpHook);
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
        if ((start & 0xFFF) != 0 || size <= 0 || (size & 0xFFF) != 0 || size > CommandAuditor.MMIO_WINDOW
                || head < 0 || head >= size || tail < 0 || tail >= size || (head & 3) != 0 || (tail & 3) != 0) {
            throw reject(Rule.BAD_RING, "RING", 0, String.format(
                    "start 0x%x, size 0x%x, head 0x%x, tail 0x%x", start, size, head, tail));
        }
        if (!context.partition().containsGm(start, size)) {
            throw reject(Rule.GM_OUT_OF_RANGE, "RING", 0, String.format("ring [0x%x, 0x%x) is outside %s and %s",
                    start, start + size, context.partition().aperture(), context.partition().hidden()));
        }
        long bytes;
        try {
            bytes = ringShadow.copyRing(context.ggtt(), start, size, head, tail);
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
        runMarkingPartial();
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
        runMarkingPartial();
    }

    private void begin(WorkloadContext context) {
        this.ctx = requireNonNull(context, "context is null");
        this.engine = context.engine();
        this.lookup = table.lookupArray(engine);
        batches.clear();
        batchesStarted = 0;
        ringShadowBytes = 0;
        workloadBytes = 0;
        unmappedAt = -1;
        auditor.begin(context);
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

    /**
     * Whether the last rejection was of a command in a non-privileged (PPGTT) batch buffer, which only the
     * diagnostic scan ({@link ScanOptions#scanPpgttBatches()}) enters.
     */
    public boolean rejectedInPpgttBatch() {
        return rejectedInPpgtt;
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
                long end = ShadowBuffer.noopRunEnd(seg, pos + 4, lim);
                count += (end - pos) >>> 2;
                pos = end;
                continue;
            } else if (entry == 0) {
                throw auditor.unknown(header, pos);
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

    /** {@link #run}, and on a rejection the batch being scanned keeps the bytes copied so far as its size. */
    private void runMarkingPartial() throws ScanRejectedException {
        try {
            run();
        } catch (ScanRejectedException e) {
            markPartial();
            throw e;
        }
    }

    /**
     * A rejected batch that did not end keeps what was copied of it (up to and past the rejected command) as its
     * size, so an observer of the rejected scan ({@link ScanObserver}) sees the bytes the scanner saw.
     */
    private void markPartial() {
        if (kind != BufferKind.RING && batches.count() > record && batches.size(record) == 0) {
            batches.setSize(record, limit - regionStart);
        }
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

    /** A rejection of the command at {@code pos} in the current buffer (offset from the buffer's start). */
    ScanRejectedException reject(Rule rule, String name, long pos, String detail) {
        long offset;
        long address;
        if (kind == BufferKind.RING) {
            offset = ringSize > 0 ? (ringHead + pos - regionStart) % ringSize : pos - regionStart;
            address = ringStart;
        } else {
            offset = pos - regionStart;
            address = regionGma;
        }
        rejectedInPpgtt = kind != BufferKind.RING && regionPpgtt;
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
        BatchFrame caller = new BatchFrame(buf, bufId, kind, regionStart, limit, regionGma, gmaLimit, unmappedAt, chunk,
                regionPpgtt, regionMemory, record);
        enterBatch(gma, ppgtt, level, caller.bufId(), cmdPos, "MI_BATCH_BUFFER_START", cmdPos);
        try {
            run();
        } catch (ScanRejectedException e) {
            markPartial();
            restore(caller);
            markPartial();
            throw e;
        }
        restore(caller);
    }

    private void restore(BatchFrame caller) {
        buf = caller.buf();
        bufId = caller.bufId();
        kind = caller.kind();
        regionStart = caller.regionStart();
        limit = caller.limit();
        regionGma = caller.regionGma();
        gmaLimit = caller.gmaLimit();
        unmappedAt = caller.unmappedAt();
        chunk = caller.chunk();
        regionPpgtt = caller.ppgtt();
        regionMemory = caller.memory();
        record = caller.record();
    }

    // ------------------------------------------------------------------------------------------------ handlers

    private int handle(int entry, int header, long pos, int len) throws ScanRejectedException {
        int single = (entry >>> 16) & 0xFF;
        if ((entry & LENGTH_BITS) != 0 && single != 0 && len != single) {
            throw reject(Rule.BAD_LENGTH, name(entry), pos, name(entry) + " must be " + single
                    + " dwords, the header says " + len);
        }
        MemorySegment seg = buf.seg;
        Handler handler = CommandTable.handler(entry);
        switch (handler) {
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
            default -> auditor.check(handler, entry, header, seg, pos, len);
        }
        return CONTINUE;
    }

    private String name(int entry) {
        return table.def(entry).name();
    }

    private int batchStart(int entry, int header, long pos, int len) throws ScanRejectedException {
        if (len != 3) {
            throw auditor.badLength(entry, pos, len, "3");
        }
        boolean second = (header & (1 << 22)) != 0;
        boolean ppgtt = regionPpgtt || (header & (1 << 8)) != 0;
        long target = CommandAuditor.address(buf.seg, pos, 1);
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
                if (ppgtt && batches.coversPpgtt(target)) {
                    // a PPGTT chain looping back into what this scan already checked (igt_spin, gem_wsim): the
                    // diagnostic scan stops here; the GPU runs the loop from guest memory (decision 0014)
                    return END_REGION;
                }
                enterBatch(target, ppgtt, BufferKind.BATCH, bufId, pos, name(entry), pos);
                return NEW_REGION;
            }
        }
        return CONTINUE;
    }
}
