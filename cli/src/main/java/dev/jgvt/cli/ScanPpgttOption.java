package dev.jgvt.cli;

import dev.jgvt.core.engine.GvtConfig;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --scan-ppgtt-batches ENGINES}: the diagnostic scan of non-privileged (PPGTT) batch buffers, GVT-g's
 * {@code scan_nonprivbb}; shared by gvt serve, gvt qemu and gvt daemon.
 */
final class ScanPpgttOption {
    @Option(names = "--scan-ppgtt-batches", paramLabel = "ENGINES",
            description = "Also scan the guest's non-privileged (PPGTT) batch buffers on ENGINES (all, none, or a list of rcs, bcs, "
                    + "vcs, vcs2, vecs such as rcs,bcs), as a diagnostic: the GPU still executes the guest's own bytes, but a batch the "
                    + "scanner rejects fails its workload (GVT-g's scan_nonprivbb). With --scan-dump they are dumped too.")
    String engines;

    /** The engine setting for the option (empty without it); fails with one line on a word that is not an engine. */
    Map<String, String> settings() {
        if (engines == null) {
            return Map.of();
        }
        GvtConfig.engines("--scan-ppgtt-batches", engines);
        return Map.of(GvtConfig.SCAN_PPGTT_BATCHES, engines);
    }
}
