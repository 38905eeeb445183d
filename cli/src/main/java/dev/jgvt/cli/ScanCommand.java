package dev.jgvt.cli;

import dev.jgvt.core.cmd.CommandScanner;
import dev.jgvt.core.cmd.RecordedEvents;
import dev.jgvt.core.cmd.ScanRejectedException;
import dev.jgvt.core.cmd.SegmentGraphicsMemory;
import dev.jgvt.core.cmd.WorkloadContext;
import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.VgpuPartition;
import dev.jgvt.core.vgpu.HostGeometry;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code gvt scan}: scans FILE as a privileged (GGTT) first-level batch buffer of a vGPU with the given ranges,
 * placed at the start of its aperture slice (only FILE is mapped; batch buffers it starts elsewhere read as
 * unmapped). Prints {@code accepted} (exit 0) or {@code rejected: <rule> at 0x<offset>} (exit 2), the offset
 * being the byte offset of the offending command in its buffer; the details go to stderr. The hardware status
 * page for index-mode writes is taken to be the aperture base. With {@code --ring} FILE is the slice [head, tail) of
 * a ring buffer instead (head 0 at the aperture base, the ring one page longer than FILE, rounded to pages), so the
 * ring-only rules apply: no second-level batch and no MI_BATCH_BUFFER_END from the ring.
 */
@Command(name = "scan", mixinStandardHelpOptions = true,
        description = "Scan a command buffer as a privileged batch buffer of a vGPU.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:accepted", "2:rejected, bad arguments, or a file that cannot be read"})
final class ScanCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--engine", required = true, converter = DecodeCommand.EngineConverter.class,
            description = "Engine: rcs, bcs, vcs, vcs2 or vecs.")
    Engine engine;

    @Option(names = "--aperture", required = true, converter = RangeConverter.class, paramLabel = "BASE:SIZE",
            description = "The vGPU's aperture slice (graphics addresses, 4 KiB aligned; hex with 0x or decimal).")
    GmRange aperture;

    @Option(names = "--hidden", required = true, converter = RangeConverter.class, paramLabel = "BASE:SIZE",
            description = "The vGPU's hidden (high) graphics memory slice.")
    GmRange hidden;

    @Option(names = "--ring", description = "Scan FILE as a ring buffer's commands instead of a batch buffer.")
    boolean ring;

    @Parameters(index = "0", paramLabel = "FILE", description = "The command buffer (little-endian dwords).")
    Path file;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        byte[] bytes = InputFiles.read(file);
        if (bytes.length == 0) {
            err.println("gvt scan: " + file + " is empty: there is no command to scan");
            return ErrorHandler.REJECTED;
        }
        long ggtt = HostGeometry.defaults().ggttSize();
        for (GmRange range : new GmRange[] {aperture, hidden}) {
            if (range.end() > ggtt || range.end() < range.base()) {
                err.printf("gvt scan: the range %s lies outside the %d GiB GGTT%n", range, ggtt >>> 30);
                return ErrorHandler.REJECTED;
            }
        }
        if (bytes.length % 4 != 0) {
            err.printf("gvt scan: the file's size (%d bytes) is not a multiple of 4%n", bytes.length);
            return ErrorHandler.REJECTED;
        }
        long ringSize = (bytes.length + 4096L) & ~4095L;
        if (ring && ringSize > 2L * 1024 * 1024) {
            err.printf("gvt scan: a ring holds at most 2 MiB of commands, the file has %d bytes%n", bytes.length);
            return ErrorHandler.REJECTED;
        }
        if ((ring ? ringSize : bytes.length) > aperture.size()) {
            err.printf("gvt scan: the file (%d bytes) does not fit the aperture slice %s%n", bytes.length, aperture);
            return ErrorHandler.REJECTED;
        }
        if (aperture.base() < hidden.end() && hidden.base() < aperture.end()) {
            err.printf("gvt scan: the aperture %s and hidden %s ranges overlap%n", aperture, hidden);
            return ErrorHandler.REJECTED;
        }
        VgpuPartition partition = new VgpuPartition(aperture, hidden, 0, 0);
        long mapped = ring ? ringSize : (bytes.length + 4095L) & ~4095L;
        try (Arena arena = Arena.ofConfined(); CommandScanner scanner = CommandScanner.gen9()) {
            MemorySegment memory = arena.allocate(Math.max(4096, mapped), 4096);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, memory, 0, bytes.length);
            SegmentGraphicsMemory gm = new SegmentGraphicsMemory().map(aperture.base(), memory);
            WorkloadContext context = new WorkloadContext(engine, partition, gm, null, aperture.base(),
                    new RecordedEvents());
            try {
                if (ring) {
                    scanner.scanRing(context, aperture.base(), ringSize, 0, bytes.length);
                } else {
                    scanner.scanBatch(context, aperture.base());
                }
                out.println("accepted");
                return 0;
            } catch (ScanRejectedException e) {
                out.printf("rejected: %s at 0x%08x%n", e.rule().id(), e.offset());
                err.println("gvt scan: " + e.getMessage());
                return ErrorHandler.REJECTED;
            }
        }
    }

    /** Parses {@code BASE:SIZE}. */
    static final class RangeConverter implements CommandLine.ITypeConverter<GmRange> {
        @Override
        public GmRange convert(String value) {
            int colon = value.indexOf(':');
            if (colon < 0) {
                throw new CommandLine.TypeConversionException("expected BASE:SIZE, got '" + value + "'");
            }
            try {
                return new GmRange(Long.decode(value.substring(0, colon)), Long.decode(value.substring(colon + 1)));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("bad range '" + value + "': " + e.getMessage());
            }
        }
    }
}
