package dev.jgvt.cli;

import dev.jgvt.core.cmd.ScanDump;
import dev.jgvt.core.engine.GvtConfig;
import dev.jgvt.spi.ErrorCode;
import dev.jgvt.spi.GvtException;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --scan-dump FILE} and its limit, shared by gvt serve and gvt qemu (which runs the server in-process). */
final class ScanDumpOptions {
    @Option(names = "--scan-dump", paramLabel = "FILE",
            description = "Dump every ring slice and batch buffer the scanner scans, with engine, address space, level and verdict, into FILE "
                    + "(must not exist; format: docs/command-scanner.md). Workloads of a shape already dumped are counted, not written.")
    Path file;

    @Option(names = "--scan-dump-max-mib", paramLabel = "MIB", defaultValue = "64",
            description = "Stop the scan dump at MIB MiB (default ${DEFAULT-VALUE}); a log line says when it is reached.")
    long maxMib;

    /** The engine settings for the options (empty without --scan-dump); fails with one line on a bad path or limit. */
    Map<String, String> settings() {
        if (file == null) {
            return Map.of();
        }
        if (maxMib < 1 || maxMib > 65536) {
            throw new GvtException(ErrorCode.INVALID_ARGUMENT, "--scan-dump-max-mib must be 1..65536, not " + maxMib);
        }
        Path path = ScanDump.checkPath(file);
        return Map.of(GvtConfig.SCAN_DUMP, path.toString(), GvtConfig.SCAN_DUMP_MAX_BYTES, Long.toString(maxMib << 20));
    }
}
