package dev.jgvt.core.host;

import java.lang.foreign.MemorySegment;

/**
 * The physical GPU as the core sees it. This is the memory part: the host GGTT, the device (DMA) address
 * space in which guest pages and host-owned memory are visible to the GPU, and allocation of host-owned
 * memory (shadow page tables, scratch pages, shadow buffers), and execution of shadow workloads on its engines
 * ({@link #execute}).
 *
 * <p><b>Device addresses.</b> Everything the GPU reaches goes through a device address: host GGTT entries
 * and shadow PPGTT entries hold device addresses (bits 45:12), never host virtual addresses. A device
 * address is valid from {@link #dmaMap} or {@link #allocate} until the matching {@link #dmaUnmap} or
 * {@link HostBuffer#close()}; the GPU faults on any other address.
 *
 * <p><b>Threading.</b> Every method is safe from any thread. Writes made here become visible to the
 * engines at the next submission (the hand-off orders them), as with a posted write plus a flush.
 *
 * <p><b>Errors.</b> Caller mistakes (an index outside the GGTT, a segment of the wrong size) throw
 * {@link IllegalArgumentException}; exhausted resources throw {@link dev.jgvt.spi.GvtException} with
 * {@link dev.jgvt.spi.ErrorCode#NO_SPACE}.
 */
public interface HostGpu {
    /** The size of a GTT page and of a page table. */
    int PAGE_SIZE = 4096;

    /** The size of a 2 MiB (huge) DMA mapping. */
    int HUGE_PAGE_SIZE = 2 * 1024 * 1024;

    /** The number of host GGTT entries (1M entries for a 4 GiB GGTT); index {@code i} maps GM {@code i << 12}. */
    int ggttEntries();

    /** Writes host GGTT entry {@code index} (a device address in bits 45:12 plus flag bits). */
    void ggttWrite(int index, long entry);

    /** Reads host GGTT entry {@code index}. */
    long ggttRead(int index);

    /**
     * Makes {@code pages} visible to the GPU and returns its device address. {@code pages} is a pinned guest
     * page ({@value #PAGE_SIZE} bytes) or a physically contiguous run of {@value #HUGE_PAGE_SIZE} bytes; the
     * returned address is aligned to the segment's size. The segment must stay valid until
     * {@link #dmaUnmap}.
     *
     * @throws IllegalArgumentException if the size is neither 4 KiB nor 2 MiB
     * @throws dev.jgvt.spi.GvtException {@code NO_SPACE} when the device address space is exhausted
     */
    long dmaMap(MemorySegment pages);

    /**
     * Removes a mapping made by {@link #dmaMap}. After return the GPU faults on the address.
     *
     * @throws IllegalArgumentException if {@code deviceAddress} is not the start of a live DMA mapping
     */
    void dmaUnmap(long deviceAddress);

    /** Whether {@link #dmaMap} accepts 2 MiB runs (the GPU can use 2 MiB GTT pages). */
    boolean supportsHugePages();

    /**
     * Allocates zeroed host-owned memory of {@code bytes} (a positive multiple of {@value #PAGE_SIZE}),
     * mapped for the GPU. {@code purpose} names the owner in diagnostics ("shadow PT", "scratch").
     *
     * @throws dev.jgvt.spi.GvtException {@code NO_SPACE} when host memory or device space is exhausted
     */
    HostBuffer allocate(long bytes, String purpose);

    /**
     * Executes {@code submission} on its physical engine and returns when the engine has stopped: at the tail,
     * or early on an error (the completion says which). Submissions to one engine are serialised; different
     * engines may execute concurrently on different threads. Never throws for what the workload contains.
     *
     * @throws dev.jgvt.spi.GvtException {@link dev.jgvt.spi.ErrorCode#UNSUPPORTED} from a GPU model that has no
     *     engines (memory-only test doubles)
     */
    default HostCompletion execute(HostSubmission submission) {
        throw new dev.jgvt.spi.GvtException(dev.jgvt.spi.ErrorCode.UNSUPPORTED, "this host GPU has no engines");
    }
}
