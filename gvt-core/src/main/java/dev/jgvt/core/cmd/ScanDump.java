package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what the scanner scanned to a file (the scan dump, docs/command-scanner.md): per workload its ring slice
 * and the batch buffers the scan entered, with engine, address space, privilege, level and the live verdict. The
 * bytes are the guest's, re-read right after the scan (the shadow copy carries the scanner's patches: index-mode
 * writes rewritten to a host status page, MI_USER_INTERRUPT turned into MI_NOOP, shadow PDPs, which a replay would
 * not accept as a guest's). A workload whose shape (engine, levels, address spaces, verdict, command headers, the
 * registers LRIs write, PIPE_CONTROL flags) was dumped already is counted, not written again. Bounded by a byte
 * and a workload count; reaching either is logged once and ends the dump. The dump only reads guest memory: what
 * the guest sees does not change.
 */
public final class ScanDump implements ScanObserver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScanDump.class);
    /** The first line of a dump file. */
    public static final String MAGIC = "JGVT-SCAN-DUMP 1";
    private static final ValueLayout.OfInt DW = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final OutputStream out;
    private final long maxBytes;
    private final int maxWorkloads;
    private final CommandTable table = CommandTable.gen9();
    private final Set<Long> shapes = new HashSet<>();
    private long bytes;
    private int workloads;
    private long duplicates;
    private long notDumped;
    private boolean full;
    private boolean closed;

    private ScanDump(Path file, OutputStream out, long maxBytes, int maxWorkloads) {
        this.file = file;
        this.out = out;
        this.maxBytes = maxBytes;
        this.maxWorkloads = maxWorkloads;
    }

    /**
     * Creates {@code file} (which must not exist) and writes the file header.
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} with one line naming what is wrong with the path or
     *     the limits
     */
    public static ScanDump create(Path file, long maxBytes, int maxWorkloads) {
        requireNonNull(file, "file is null");
        if (maxBytes < 4096 || maxWorkloads < 1) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "scan dump limits must be at least 4096 bytes and 1 "
                    + "workload, not " + maxBytes + " bytes and " + maxWorkloads + " workloads");
        }
        Path path = checkPath(file);
        OutputStream stream;
        try {
            stream = new BufferedOutputStream(Files.newOutputStream(path, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), 1 << 16);
            byte[] header = (MAGIC + "\n").getBytes(StandardCharsets.US_ASCII);
            stream.write(header);
            stream.flush();
        } catch (FileAlreadyExistsException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "scan dump " + path + " exists (remove it, or choose "
                    + "another file)");
        } catch (IOException e) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "scan dump " + path + " cannot be written: " + e, e);
        }
        return new ScanDump(path, stream, maxBytes, maxWorkloads);
    }

    /**
     * The absolute path of a dump file that can be created: one that does not exist, in a writable directory.
     *
     * @throws GvtException {@link ErrorCode#INVALID_ARGUMENT} with one line naming what is wrong
     */
    public static Path checkPath(Path file) {
        Path path = file.toAbsolutePath().normalize();
        Path dir = path.getParent();
        if (Files.isDirectory(path)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "scan dump " + path + " is a directory (name a file)");
        }
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "scan dump " + path + " exists (remove it, or choose "
                    + "another file)");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "scan dump " + path + ": directory " + dir
                    + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "scan dump " + path + ": directory " + dir
                    + " is not writable");
        }
        return path;
    }

    @Override
    public synchronized void scanned(int vgpuId, WorkloadContext context, RingSlice ring, CommandScanner scanner,
            ScanRejectedException rejection) {
        if (closed || full) {
            notDumped++;
            return;
        }
        try {
            String verdict = ScanDumpRecord.verdict(rejection);
            byte[] ringBytes = readRing(context.ggtt(), ring);
            ShadowBatches batches = scanner.batches();
            int n = batches.count();
            byte[][] batchBytes = new byte[n][];
            for (int i = 0; i < n; i++) {
                GraphicsMemory memory = batches.ppgtt(i) ? context.ppgtt() : context.ggtt();
                batchBytes[i] = memory == null ? new byte[0] : read(memory, batches.guestAddress(i), batches.size(i));
            }
            long key = shape(context.engine(), verdict, ringBytes, batches, batchBytes);
            if (shapes.contains(key)) {
                duplicates++;
                return;
            }
            int number = workloads + 1;
            StringBuilder text = new StringBuilder(512);
            GmRange aperture = context.partition().aperture();
            GmRange hidden = context.partition().hidden();
            header(text, number, vgpuId, context.engine(), BufferKind.RING, false, ring.start(), verdict);
            text.append(String.format(" ring=0x%x+0x%x head=0x%x tail=0x%x aperture=0x%x+0x%x hidden=0x%x+0x%x hwsp=0x%x",
                    ring.start(), ring.size(), ring.head(), ring.tail(), aperture.base(), aperture.size(), hidden.base(),
                    hidden.size(), context.hwspAddress()));
            byte[][] records = new byte[n + 1][];
            records[0] = record(text, ringBytes);
            long size = records[0].length + ringBytes.length;
            for (int i = 0; i < n; i++) {
                text.setLength(0);
                BufferKind level = batches.pool(i) == ShadowBatches.SECOND_LEVEL_POOL ? BufferKind.SECOND_LEVEL_BATCH
                        : BufferKind.BATCH;
                header(text, number, vgpuId, context.engine(), level, batches.ppgtt(i), batches.guestAddress(i), verdict);
                records[i + 1] = record(text, batchBytes[i]);
                size += records[i + 1].length + batchBytes[i].length;
            }
            if (bytes + size > maxBytes || workloads >= maxWorkloads) {
                full = true;
                notDumped++;
                log.warn("scan dump {} is full ({} workloads, {} bytes; limits {} workloads, {} bytes): later scans are "
                        + "not dumped", file, workloads, bytes, maxWorkloads, maxBytes);
                return;
            }
            out.write(records[0]);
            out.write(ringBytes);
            for (int i = 0; i < n; i++) {
                out.write(records[i + 1]);
                out.write(batchBytes[i]);
            }
            out.flush();
            shapes.add(key);
            bytes += size;
            workloads = number;
        } catch (IOException | RuntimeException e) {
            full = true;
            log.warn("scan dump {} stopped: {}", file, e.toString());
        }
    }

    private static void header(StringBuilder text, int workload, int vgpu, Engine engine, BufferKind level,
            boolean ppgtt, long gma, String verdict) {
        text.append("workload=").append(workload).append(" vgpu=").append(vgpu).append(" engine=").append(engine.name())
                .append(" level=").append(ScanDumpRecord.levelName(level)).append(" space=")
                .append(ppgtt ? "ppgtt" : "ggtt").append(" privileged=").append(ppgtt ? "no" : "yes")
                .append(" gma=0x").append(Long.toHexString(gma)).append(" verdict=").append(verdict);
    }

    private static byte[] record(StringBuilder text, byte[] data) {
        text.append(" bytes=").append(data.length).append('\n');
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** The ring slice [head, tail) unwrapped; what could be read when a page is unmapped. */
    private static byte[] readRing(GraphicsMemory ggtt, RingSlice ring) {
        if (ring.size() <= 0 || ring.size() > CommandAuditor.MMIO_WINDOW || ring.head() < 0 || ring.tail() < 0
                || ring.head() >= ring.size() || ring.tail() >= ring.size()) {
            return new byte[0];
        }
        if (ring.head() <= ring.tail()) {
            return read(ggtt, ring.start() + ring.head(), ring.tail() - ring.head());
        }
        byte[] first = read(ggtt, ring.start() + ring.head(), ring.size() - ring.head());
        if (first.length < ring.size() - ring.head()) {
            return first;
        }
        byte[] second = read(ggtt, ring.start(), ring.tail());
        byte[] all = java.util.Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }

    private static byte[] read(GraphicsMemory memory, long gma, long length) {
        if (length <= 0) {
            return new byte[0];
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(length);
            long got = length;
            try {
                memory.copy(gma, seg, 0, length);
            } catch (GmUnmappedException e) {
                got = Math.clamp(e.address() - gma, 0, length);
            }
            return seg.asSlice(0, got).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** A 64-bit hash of what makes a workload different to the scanner (not its addresses and data). */
    private long shape(Engine engine, String verdict, byte[] ring, ShadowBatches batches, byte[][] batchBytes) {
        long h = mix(0x6a09e667f3bcc908L, engine.ordinal());
        h = mix(h, verdict.hashCode());
        h = shapeOf(h, engine, ring);
        for (int i = 0; i < batchBytes.length; i++) {
            h = mix(h, batches.pool(i) * 2L + (batches.ppgtt(i) ? 1 : 0));
            h = shapeOf(h, engine, batchBytes[i]);
        }
        return h;
    }

    private long shapeOf(long h, Engine engine, byte[] data) {
        int[] ops = table.lookupArray(engine);
        MemorySegment seg = MemorySegment.ofArray(data);
        long pos = 0;
        long end = data.length & ~3L;
        boolean inNoops = false;
        h = mix(h, -1);
        while (pos < end) {
            int header = seg.get(DW, pos);
            if (header == 0) {
                if (!inNoops) {
                    h = mix(h, 0);
                }
                inNoops = true;
                pos += 4;
                continue;
            }
            inNoops = false;
            h = mix(h, header);
            int entry = ops[header >>> 16];
            if (entry == 0) {
                break;
            }
            long len = CommandTable.length(entry, header);
            Handler handler = CommandTable.handler(entry);
            if (handler == Handler.LOAD_REGISTER_IMM) {
                for (long at = pos + 4; at + 8 <= Math.min(end, pos + len * 4); at += 8) {
                    h = mix(h, seg.get(DW, at));
                }
            } else if (handler == Handler.PIPE_CONTROL && pos + 8 <= end) {
                h = mix(h, seg.get(DW, pos + 4));
            }
            pos += len * 4;
        }
        return h;
    }

    private static long mix(long h, long v) {
        long x = (h ^ v) * 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 29);
    }

    /** Workloads written, duplicates not written, scans after the dump filled, bytes written. */
    public synchronized String summary() {
        return String.format("%d workloads (%d bytes) written to %s, %d duplicates skipped, %d scans after the limit",
                workloads, bytes, file, duplicates, notDumped);
    }

    public synchronized int workloads() {
        return workloads;
    }

    public synchronized long duplicates() {
        return duplicates;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            out.close();
        } catch (IOException e) {
            log.warn("scan dump {}: {}", file, e.toString());
        }
        log.info("scan dump: {}", summary());
    }
}
