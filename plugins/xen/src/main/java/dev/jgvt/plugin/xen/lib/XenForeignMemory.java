package dev.jgvt.plugin.xen.lib;

import java.lang.foreign.MemorySegment;

/**
 * libxenforeignmemory: privileged mappings of another domain's frames into this process.
 * Mapped memory is handed out as a {@link ForeignMapping} whose segment belongs to an arena that is closed
 * when the mapping is unmapped, so a stale use throws instead of touching unmapped memory.
 */
public interface XenForeignMemory extends AutoCloseable {
    /**
     * {@code xenforeignmemory_map(h, domid, prot, n, gfns, err)}: maps the frames linearly. With
     * {@code err} non-null a partial success is possible: each entry receives 0 or a negative errno, and a
     * failed page must not be touched. With {@code err} null any failed page fails the whole call.
     *
     * @throws XenCallException when the call fails as a whole (NULL return)
     */
    ForeignMapping map(int domid, boolean writable, long[] gfns, int[] err);

    /**
     * {@code xenforeignmemory_map_resource}: maps Xen-owned frames (for ioreq servers: type 0, id = server
     * id, frame 0 buffered page, frame 1 synchronous page). EOPNOTSUPP when the kernel or Xen lacks the
     * interface (the caller then falls back to {@code get_ioreq_server_info} and {@link #map}).
     */
    ForeignMapping mapResource(int domid, int type, int id, long frame, int nrFrames, boolean writable);

    /** {@code xenforeignmemory_close}; idempotent. */
    @Override
    void close();

    /** One mapping; {@link #close()} unmaps it (idempotent). */
    interface ForeignMapping extends AutoCloseable {
        /** The mapped bytes ({@code pages * 4096}); invalid after close. */
        MemorySegment segment();

        @Override
        void close();
    }
}
