package dev.jgvt.core.cmd;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.hw.Engine;
import dev.jgvt.core.hw.VgpuPartition;

/**
 * What a scan needs to know about the vGPU and the workload.
 *
 * @param engine the engine the workload runs on
 * @param partition the vGPU's graphics memory ranges (every GGTT access must stay inside)
 * @param ggtt graphics memory through the vGPU's GGTT
 * @param ppgtt graphics memory through the workload's PPGTT, or null (only used to scan PPGTT batches as a
 *     diagnostic)
 * @param hwspAddress GGTT address of the hardware status page of the context that will run the shadow workload;
 *     index-mode post-sync writes are rewritten to it
 * @param events receives the virtual events taken out of the workload
 */
public record WorkloadContext(Engine engine, VgpuPartition partition, GraphicsMemory ggtt, GraphicsMemory ppgtt,
        long hwspAddress, VirtualEventSink events) {
    public WorkloadContext {
        requireNonNull(engine, "engine is null");
        requireNonNull(partition, "partition is null");
        requireNonNull(ggtt, "ggtt is null");
        requireNonNull(events, "events is null");
        if (hwspAddress < 0 || (hwspAddress & 0xFFF) != 0) {
            throw new IllegalArgumentException("HWSP address must be page aligned: 0x" + Long.toHexString(hwspAddress));
        }
    }
}
