package dev.jgvt.core.gtt;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.GmRange;
import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.hw.VgpuPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GGTT of one vGPU: the guest's view of the whole GGTT window and the host entries of its partition.
 *
 * <p>A guest write to entry {@code i} is accepted only when GM {@code i << 12} lies in the vGPU's aperture or
 * hidden range; anything else is ignored (ballooned guests touch the whole space) and logged, rate-limited.
 * An accepted present entry has its frame pinned and DMA-mapped through the {@link PinCache} and the host
 * entry becomes that device address plus the guest's low flag bits; a frame that cannot be pinned maps the
 * scratch page (present) and is counted; a not-present entry becomes scratch, not present. The reference
 * held by the previous host entry is dropped after the new one is taken.
 *
 * <p>4-byte writes: the first half of an entry is merged into the guest value and the host entry is parked
 * at scratch (not present) until the complementary half arrives; a repeated half just updates the value;
 * the pair is then processed as one 8-byte write. Reads return the guest's value (0 outside the partition,
 * where writes are not kept).
 *
 * <p>Called under the vGPU's lock. Never throws for anything a guest does.
 */
public final class GgttShadow implements GgttWindow, DmaInvalidationListener {
    private static final Logger log = LoggerFactory.getLogger(GgttShadow.class);

    private final HostGpu gpu;
    private final PinCache pins;
    private final GttScratch scratch;
    private final long tableBytes;
    private final long apertureFirst;
    private final int apertureCount;
    private final long hiddenFirst;
    private final int hiddenCount;
    /** Guest values of the partition's entries: aperture entries first, then hidden. */
    private final long[] guest;
    /** The frame each host entry holds a pin on, or -1. */
    private final long[] mapped;
    /** Halves seen of a pending 4-byte pair: bit 0 low, bit 1 high. */
    private final byte[] halves;
    private final LogLimiter limiter = new LogLimiter(10, 1_000_000_000L);
    private long ignoredWrites;
    private long shadowedWrites;
    private long invalidFrames;

    /**
     * A GGTT for the vGPU owning {@code partition}; its host entries are set to scratch (not present).
     *
     * @throws IllegalArgumentException if the partition lies outside the host GGTT
     */
    public GgttShadow(VgpuPartition partition, HostGpu gpu, PinCache pins, GttScratch scratch) {
        requireNonNull(partition, "partition is null");
        this.gpu = requireNonNull(gpu, "gpu is null");
        this.pins = requireNonNull(pins, "pins is null");
        this.scratch = requireNonNull(scratch, "scratch is null");
        this.tableBytes = (long) gpu.ggttEntries() * 8;
        GmRange ap = partition.aperture();
        GmRange hi = partition.hidden();
        long limit = (long) gpu.ggttEntries() << 12;
        if (ap.end() > limit || hi.end() > limit) {
            throw new IllegalArgumentException("partition " + ap + " / " + hi + " exceeds the GGTT of 0x"
                    + Long.toHexString(limit) + " bytes");
        }
        this.apertureFirst = ap.base() >>> 12;
        this.apertureCount = (int) (ap.size() >>> 12);
        this.hiddenFirst = hi.base() >>> 12;
        this.hiddenCount = (int) (hi.size() >>> 12);
        int total = apertureCount + hiddenCount;
        this.guest = new long[total];
        this.mapped = new long[total];
        this.halves = new byte[total];
        java.util.Arrays.fill(mapped, -1);
        for (int slot = 0; slot < total; slot++) {
            gpu.ggttWrite(indexOf(slot), scratchNotPresent());
        }
        pins.addListener(this);
    }

    @Override
    public long read(long offset, int size) {
        if (offset < 0 || offset >= tableBytes || (size != 4 && size != 8) || (offset & (size - 1)) != 0) {
            return 0;
        }
        int slot = slotOf(offset >>> 3);
        if (slot < 0) {
            return 0;
        }
        long value = guest[slot];
        if (size == 8) {
            return value;
        }
        return (offset & 4) == 0 ? value & 0xFFFF_FFFFL : value >>> 32;
    }

    @Override
    public void write(long offset, int size, long value) {
        if (offset < 0 || offset >= tableBytes || (size != 4 && size != 8) || (offset & (size - 1)) != 0) {
            ignoredWrites++;
            limiter.warn(log, "malformed GGTT write: offset 0x%x, size %d", offset, size);
            return;
        }
        long index = offset >>> 3;
        int slot = slotOf(index);
        if (slot < 0) {
            ignoredWrites++;
            limiter.warn(log, "GGTT write to entry 0x%x (GM 0x%x) outside the vGPU's partition", index, index << 12);
            return;
        }
        if (size == 8) {
            guest[slot] = value;
            halves[slot] = 0;
            shadowedWrites++;
            shadow(slot, value);
            return;
        }
        int half = (offset & 4) == 0 ? 1 : 2;
        long merged = half == 1
                ? (guest[slot] & 0xFFFF_FFFF_0000_0000L) | (value & 0xFFFF_FFFFL)
                : (guest[slot] & 0xFFFF_FFFFL) | (value << 32);
        guest[slot] = merged;
        int seen = halves[slot] | half;
        if (seen == 3) {
            halves[slot] = 0;
            shadowedWrites++;
            shadow(slot, merged);
        } else {
            if (halves[slot] == 0) {
                setHost(slot, scratchNotPresent(), -1);
            }
            halves[slot] = (byte) seen;
        }
    }

    /**
     * Device-model reset: every entry of the partition back to scratch (not present), its pins released, and
     * the pin cache's idle frames unpinned.
     */
    public void reset() {
        for (int slot = 0; slot < guest.length; slot++) {
            guest[slot] = 0;
            halves[slot] = 0;
            setHost(slot, scratchNotPresent(), -1);
        }
        pins.releaseIdle();
    }

    /** Releases every pin and detaches from the pin cache; host entries are left at scratch. */
    public void close() {
        reset();
        pins.removeListener(this);
    }

    @Override
    public void invalidated(long firstGfn, long endGfn) {
        for (int slot = 0; slot < mapped.length; slot++) {
            long gfn = mapped[slot];
            if (gfn >= firstGfn && gfn < endGfn) {
                setHost(slot, scratch.dataPage() | (guest[slot] & GttEntry.LOW_FLAGS) | GttEntry.PRESENT, -1);
            }
        }
    }

    /** The guest's value of entry {@code index} (0 outside the partition). */
    public long guestEntry(long index) {
        int slot = slotOf(index);
        return slot < 0 ? 0 : guest[slot];
    }

    /**
     * The guest physical address GM {@code gma} maps to through the guest's GGTT entry, or -1 when {@code gma} is
     * outside the vGPU's partition or the entry is not present (GVT-g's {@code gma_to_gpa} for the GGTT; used for
     * ring, batch, context and display surface accesses). Never throws.
     */
    @Override
    public long gmaToGpa(long gma) {
        if (gma < 0) {
            return -1;
        }
        int slot = slotOf(gma >>> 12);
        return slot < 0 ? -1 : GttEntry.translate(guest[slot], gma);
    }

    /** Guest entry writes that reached the shadow (an entry written as two 4-byte halves counts once). */
    public long shadowedWrites() {
        return shadowedWrites;
    }

    /** Guest writes ignored (outside the partition or malformed). */
    public long ignoredWrites() {
        return ignoredWrites;
    }

    /** Present entries whose frame could not be pinned and that map the scratch page instead. */
    public long invalidFrames() {
        return invalidFrames;
    }

    /** Whether host entry {@code index} belongs to this vGPU. */
    public boolean owns(long index) {
        return slotOf(index) >= 0;
    }

    private void shadow(int slot, long value) {
        if (!GttEntry.present(value)) {
            setHost(slot, scratchNotPresent(), -1);
            return;
        }
        long gfn = GttEntry.frame(value);
        long dma = pins.acquire(gfn);
        if (dma == PinCache.NO_MAPPING) {
            invalidFrames++;
            limiter.warn(log, "GGTT entry 0x%x maps gfn 0x%x, which cannot be pinned; using scratch", indexOf(slot), gfn);
            setHost(slot, scratch.dataPage() | (value & GttEntry.LOW_FLAGS) | GttEntry.PRESENT, -1);
            return;
        }
        setHost(slot, dma | (value & GttEntry.LOW_FLAGS) | GttEntry.PRESENT, gfn);
    }

    /** Writes the host entry and moves the pin reference: the new one is already taken, the old is dropped. */
    private void setHost(int slot, long hostEntry, long gfn) {
        long old = mapped[slot];
        mapped[slot] = gfn;
        gpu.ggttWrite(indexOf(slot), hostEntry);
        if (old >= 0) {
            pins.release(old);
        }
    }

    private long scratchNotPresent() {
        return scratch.dataPage() & ~GttEntry.PRESENT;
    }

    private int slotOf(long index) {
        long a = index - apertureFirst;
        if (a >= 0 && a < apertureCount) {
            return (int) a;
        }
        long h = index - hiddenFirst;
        if (h >= 0 && h < hiddenCount) {
            return apertureCount + (int) h;
        }
        return -1;
    }

    private int indexOf(int slot) {
        return (int) (slot < apertureCount ? apertureFirst + slot : hiddenFirst + slot - apertureCount);
    }
}
