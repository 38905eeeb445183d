package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Scans a dumped workload again ({@link ScanDump}) with the live path's table, register policy and options: its
 * ring slice is laid out at its ring address and its batches at theirs, in graphics memory that holds only the
 * dumped bytes; the ring is scanned as the dispatcher scans it. One difference from the live path: PDP loads are
 * accepted as written (the guest's page tables are not in the dump; live, the shadow-PPGTT code checks them).
 */
public final class ScanReplay implements AutoCloseable {
    private final CommandScanner scanner;
    private final RecordedEvents events = new RecordedEvents();
    private long bytes;

    /** A replay with the live path's policy ({@link ScanOptions#defaults()}). */
    public ScanReplay() {
        this(ScanOptions.defaults());
    }

    public ScanReplay(ScanOptions options) {
        this.scanner = new CommandScanner(CommandTable.gen9(), Gen9RegisterPolicy.load(), ScanReplay::acceptRoots,
                options);
    }

    private static boolean acceptRoots(dev.jgvt.core.hw.Engine engine, long[] guest, int written, long[] shadow) {
        System.arraycopy(guest, 0, shadow, 0, Math.min(guest.length, shadow.length));
        return true;
    }

    /**
     * The verdict of scanning {@code workload} (its ring record first): {@code accepted} or
     * {@code rejected:<rule id>}.
     */
    public String verdict(List<ScanDumpRecord> workload) {
        ScanRejectedException e = scan(workload);
        return ScanDumpRecord.verdict(e);
    }

    /** Scans {@code workload}; the rejection, or null when accepted. */
    public ScanRejectedException scan(List<ScanDumpRecord> workload) {
        return scan(prepare(workload));
    }

    /** A dumped workload laid out in graphics memory, ready to be scanned (again and again). */
    public static Prepared prepare(List<ScanDumpRecord> workload) {
        ScanDumpRecord ring = workload.getFirst();
        if (ring.level() != BufferKind.RING) {
            throw new IllegalArgumentException("a workload starts with its ring record");
        }
        PageMemory ggtt = new PageMemory();
        PageMemory ppgtt = new PageMemory();
        ScanObserver.RingSlice slice = ring.ring();
        long size = slice.size();
        byte[] data = ring.bytes();
        if (size > 0 && size <= CommandAuditor.MMIO_WINDOW && slice.head() >= 0 && slice.head() < size) {
            for (int i = 0; i < data.length; i++) {
                ggtt.put(slice.start() + (slice.head() + i) % size, data[i]);
            }
        }
        for (ScanDumpRecord r : workload.subList(1, workload.size())) {
            PageMemory memory = r.ppgtt() ? ppgtt : ggtt;
            byte[] b = r.bytes();
            for (int i = 0; i < b.length; i++) {
                memory.put(r.gma() + i, b[i]);
            }
        }
        return new Prepared(ring, ggtt, ppgtt);
    }

    /** Scans a prepared workload; the rejection, or null when accepted. */
    public ScanRejectedException scan(Prepared workload) {
        ScanDumpRecord ring = workload.ring;
        ScanObserver.RingSlice slice = ring.ring();
        events.clear();
        WorkloadContext context = new WorkloadContext(ring.engine(), ring.partition(), workload.ggtt, workload.ppgtt,
                ring.hwsp(), events);
        try {
            scanner.scanRing(context, slice.start(), slice.size(), slice.head(), slice.tail());
            bytes += scanner.shadowRing().byteSize();
            ShadowBatches batches = scanner.batches();
            for (int i = 0; i < batches.count(); i++) {
                bytes += batches.size(i);
            }
            return null;
        } catch (ScanRejectedException e) {
            return e;
        }
    }

    /** A workload's ring record and its graphics memory. */
    public static final class Prepared {
        private final ScanDumpRecord ring;
        private final PageMemory ggtt;
        private final PageMemory ppgtt;

        private Prepared(ScanDumpRecord ring, PageMemory ggtt, PageMemory ppgtt) {
            this.ring = ring;
            this.ggtt = ggtt;
            this.ppgtt = ppgtt;
        }

        public ScanDumpRecord ring() {
            return ring;
        }
    }

    /** The batch buffers the last scan entered (valid until the next scan). */
    public ShadowBatches batches() {
        return scanner.batches();
    }

    /** Whether the last scan's rejection was in a PPGTT batch (under the diagnostic scan of them). */
    public boolean rejectedInPpgttBatch() {
        return scanner.rejectedInPpgttBatch();
    }

    /** Bytes of the accepted workloads' rings and batches scanned so far. */
    public long bytesScanned() {
        return bytes;
    }

    /** Commands the accepted scans walked so far. */
    public long commandsScanned() {
        return scanner.commandsScanned();
    }

    @Override
    public void close() {
        scanner.close();
    }

    /** Graphics memory holding only the bytes put into it (byte granular); everything else is unmapped. */
    private static final class PageMemory implements GraphicsMemory {
        private final Map<Long, byte[]> pages = new HashMap<>();
        private final Map<Long, long[]> valid = new HashMap<>();

        void put(long gma, byte value) {
            long page = gma >>> 12;
            int at = (int) (gma & 0xFFF);
            pages.computeIfAbsent(page, p -> new byte[4096])[at] = value;
            valid.computeIfAbsent(page, p -> new long[64])[at >>> 6] |= 1L << (at & 63);
        }

        @Override
        public void copy(long gma, MemorySegment dst, long dstOffset, long length) throws GmUnmappedException {
            requireNonNull(dst, "dst is null");
            long done = 0;
            while (done < length) {
                long at = gma + done;
                long[] bits = valid.get(at >>> 12);
                int off = (int) (at & 0xFFF);
                int n = (int) Math.min(length - done, 4096 - off);
                int run = 0;
                while (bits != null && run < n) {
                    int b = off + run;
                    long unset = ~bits[b >>> 6] >>> (b & 63);
                    int ones = unset == 0 ? 64 - (b & 63) : Long.numberOfTrailingZeros(unset);
                    if (ones == 0) {
                        break;
                    }
                    run += ones;
                }
                run = Math.min(run, n);
                if (run > 0) {
                    MemorySegment.copy(MemorySegment.ofArray(pages.get(at >>> 12)), off, dst, dstOffset + done, run);
                    done += run;
                }
                if (run < n) {
                    throw new GmUnmappedException(gma + done);
                }
            }
        }
    }

}
