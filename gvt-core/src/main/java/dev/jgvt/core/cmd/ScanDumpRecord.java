package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.VgpuPartition;

/**
 * One buffer of a scan dump (docs/command-scanner.md, "Scan dump"): a ring slice or a batch buffer of one scanned
 * workload, with the guest's bytes as the scanner read them and the verdict the live scan gave the workload.
 *
 * @param workload the workload's number in its dump (the records of one workload are consecutive, ring first)
 * @param vgpu the vGPU the workload came from
 * @param engine the engine it was submitted to
 * @param level {@link BufferKind#RING}, {@link BufferKind#BATCH} or {@link BufferKind#SECOND_LEVEL_BATCH}
 * @param ppgtt whether the buffer is in the PPGTT address space (else GGTT)
 * @param privileged whether the buffer runs privileged (the ring and GGTT batches; PPGTT batches do not)
 * @param gma the buffer's graphics address (a ring: its start)
 * @param verdict {@code accepted} or {@code rejected:<rule id>} (the whole workload's live verdict)
 * @param ring the ring geometry (ring records only, else null)
 * @param partition the vGPU's graphics memory ranges at the scan (ring records only, else null)
 * @param hwsp the status-page address index-mode writes were rewritten to (ring records only, else 0)
 * @param bytes the guest's bytes: a ring's slice from head to tail (unwrapped), a batch from its start to its
 *     MI_BATCH_BUFFER_END or chaining start (in a rejected workload, a batch the rejection stopped in holds what
 *     the scanner had copied of it)
 */
public record ScanDumpRecord(int workload, int vgpu, Engine engine, BufferKind level, boolean ppgtt,
        boolean privileged, long gma, String verdict, ScanObserver.RingSlice ring,
        VgpuPartition partition, long hwsp, byte[] bytes) {
    public static final String ACCEPTED = "accepted";

    public ScanDumpRecord {
        requireNonNull(engine, "engine is null");
        requireNonNull(level, "level is null");
        requireNonNull(verdict, "verdict is null");
        requireNonNull(bytes, "bytes is null");
        if (level == BufferKind.RING && (ring == null || partition == null)) {
            throw new IllegalArgumentException("a ring record needs its ring geometry and partition");
        }
    }

    /** The verdict text of a scan: {@code accepted} or {@code rejected:<rule id>}. */
    public static String verdict(ScanRejectedException rejection) {
        return rejection == null ? ACCEPTED : "rejected:" + rejection.rule().id();
    }

    /** The level as the file names it: {@code ring}, {@code batch}, {@code batch2}. */
    static String levelName(BufferKind level) {
        return switch (level) {
            case RING -> "ring";
            case BATCH -> "batch";
            case SECOND_LEVEL_BATCH -> "batch2";
        };
    }

    static BufferKind level(String name) {
        return switch (name) {
            case "ring" -> BufferKind.RING;
            case "batch" -> BufferKind.BATCH;
            case "batch2" -> BufferKind.SECOND_LEVEL_BATCH;
            default -> throw new IllegalArgumentException("level must be ring, batch or batch2, not '" + name + "'");
        };
    }
}
