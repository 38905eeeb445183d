package dev.jgvt.sim;

/**
 * Size of the simulated GPU's memory resources.
 *
 * @param ggttEntries host GGTT entries (1M for a 4 GiB GGTT)
 * @param deviceFrames 4 KiB frames of device (DMA) address space
 * @param hostMemoryBytes host-owned memory the GPU may allocate (shadow tables, scratch, shadow buffers)
 * @param hugePages whether 2 MiB DMA mappings (and 2 MiB GTT pages) are supported
 */
public record SimGpuConfig(int ggttEntries, long deviceFrames, long hostMemoryBytes, boolean hugePages) {
    /** A Gen9-like GPU: 4 GiB GGTT, 64 GiB of device address space, 1 GiB of host memory, 2 MiB pages. */
    public static final SimGpuConfig GEN9 = new SimGpuConfig(1 << 20, 1L << 24, 1L << 30, true);

    public SimGpuConfig {
        if (ggttEntries < 1 || ggttEntries > (1 << 21)) {
            throw new IllegalArgumentException("GGTT entries must be in [1, 2M]: " + ggttEntries);
        }
        if (deviceFrames < 2 || deviceFrames >= (1L << 31)) {
            throw new IllegalArgumentException("device frames must be in [2, 2^31): " + deviceFrames);
        }
        if (hostMemoryBytes < 0 || hostMemoryBytes % 4096 != 0) {
            throw new IllegalArgumentException("host memory must be a non-negative multiple of 4096: " + hostMemoryBytes);
        }
    }
}
