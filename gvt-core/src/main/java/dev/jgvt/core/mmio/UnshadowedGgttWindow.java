package dev.jgvt.core.mmio;

import dev.jgvt.core.gtt.GgttWindow;
import java.util.Arrays;

/**
 * The pre-shadow placeholder GGTT window: stores the guest's entries as written and nothing else — no
 * validation against the partition, no pinning, no host GGTT. It exists so the device model works (and is
 * tested) before the GTT layer's shadowing window is plugged in; the vGPU's real window comes from
 * {@code dev.jgvt.core.gtt}. Entries are kept in 4 KiB chunks allocated on first write.
 */
public final class UnshadowedGgttWindow implements GgttWindow {
    private static final int ENTRIES_PER_CHUNK = 512;
    private final long[][] chunks;
    private final long entries;

    /** A window of {@code windowSize} bytes (8 bytes per entry). */
    public UnshadowedGgttWindow(long windowSize) {
        this.entries = windowSize / 8;
        this.chunks = new long[(int) ((entries + ENTRIES_PER_CHUNK - 1) / ENTRIES_PER_CHUNK)][];
    }

    @Override
    public long read(long offset, int size) {
        long index = offset >>> 3;
        if (index >= entries || offset < 0 || (size != 4 && size != 8) || (offset & (size - 1)) != 0) {
            return 0;
        }
        long[] chunk = chunks[(int) (index / ENTRIES_PER_CHUNK)];
        long entry = chunk == null ? 0 : chunk[(int) (index % ENTRIES_PER_CHUNK)];
        if (size == 8) {
            return entry;
        }
        return (offset & 4) == 0 ? entry & 0xFFFFFFFFL : entry >>> 32;
    }

    @Override
    public void write(long offset, int size, long value) {
        long index = offset >>> 3;
        if (index >= entries || offset < 0 || (size != 4 && size != 8) || (offset & (size - 1)) != 0) {
            return;
        }
        int c = (int) (index / ENTRIES_PER_CHUNK);
        if (chunks[c] == null) {
            chunks[c] = new long[ENTRIES_PER_CHUNK];
        }
        int i = (int) (index % ENTRIES_PER_CHUNK);
        if (size == 8) {
            chunks[c][i] = value;
        } else if ((offset & 4) == 0) {
            chunks[c][i] = (chunks[c][i] & 0xFFFFFFFF00000000L) | (value & 0xFFFFFFFFL);
        } else {
            chunks[c][i] = (chunks[c][i] & 0xFFFFFFFFL) | (value << 32);
        }
    }

    /** Forgets every entry (device reset). */
    public void clear() {
        Arrays.fill(chunks, null);
    }
}
