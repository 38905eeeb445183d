package dev.jgvt.core.engine;

import static java.util.Objects.requireNonNull;

import dev.jgvt.core.gtt.GgttShadow;
import dev.jgvt.core.gtt.GttScratch;
import dev.jgvt.core.gtt.PinCache;
import dev.jgvt.core.gtt.PpgttConfig;
import dev.jgvt.core.gtt.PpgttRoot;
import dev.jgvt.core.gtt.PpgttShadower;
import dev.jgvt.core.gtt.ShadowPpgtt;
import dev.jgvt.core.host.HostGpu;
import dev.jgvt.core.hw.GttEntry;
import dev.jgvt.core.track.PageTrackRegistry;
import dev.jgvt.core.vgpu.Vgpu;
import dev.jgvt.spi.GuestBinding;
import dev.jgvt.spi.PlaneInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The graphics-memory side of one attached vGPU: scratch pages, the pin cache over the guest's binding, the
 * GGTT shadow behind the vGPU's GGTT window, page tracking, and the shadow PPGTTs the guest announces
 * through PVINFO. Built from the guest's binding before the vGPU is attached (it is part of the vGPU's
 * {@link VgpuWiring}), closed after detach. Everything runs under the vGPU's lock (the trap path), so nothing here
 * synchronises itself.
 */
final class VgpuMemory implements AutoCloseable {
    /** Frames kept pinned while unreferenced, so a guest rewriting the same entries does not re-pin. */
    private static final int IDLE_PINS = 1024;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Vgpu vgpu;
    private final GttScratch scratch;
    private final PinCache pins;
    private final GgttShadow ggtt;
    private final PageTrackRegistry tracking;
    private final PpgttShadower ppgtt;
    /** PPGTTs the guest announced (PVINFO g2v create), by root; released when it announces destroy. */
    private final Map<PpgttRoot, ShadowPpgtt> announced = new HashMap<>();

    VgpuMemory(Vgpu vgpu, GuestBinding binding, HostGpu gpu, PpgttConfig config) {
        this.vgpu = requireNonNull(vgpu, "vgpu is null");
        requireNonNull(binding, "binding is null");
        requireNonNull(gpu, "gpu is null");
        this.scratch = new GttScratch(gpu);
        this.pins = new PinCache(binding.pages(), gpu, IDLE_PINS);
        this.ggtt = new GgttShadow(vgpu.partition(), gpu, pins, scratch);
        this.tracking = new PageTrackRegistry(binding.tracker());
        this.ppgtt = new PpgttShadower(binding.memory(), tracking, pins, gpu, scratch, config);
    }

    /** Device-model reset: the GGTT and every shadow PPGTT back to empty. */
    void deviceReset() {
        ggtt.reset();
        ppgtt.reset();
    }

    /**
     * A PPGTT announced through PVINFO is shadowed at once (and its table pages tracked), so the guest's later
     * page-table writes are trapped from the start; it stays pinned until the guest announces its end. A root
     * the shadower cannot use (not guest RAM, budget exhausted) fails this vGPU, as GVT-g does.
     */
    void announced(boolean created, int levels, long[] pdps) {
        PpgttRoot root;
        try {
            root = levels == 4 ? PpgttRoot.l4(pdps[0]) : PpgttRoot.l3(pdps[0], pdps[1], pdps[2], pdps[3]);
        } catch (IllegalArgumentException e) {
            vgpu.enterFailsafe("PVINFO announced an unusable PPGTT root: " + e.getMessage());
            return;
        }
        if (created) {
            if (announced.containsKey(root)) {
                return;
            }
            ShadowPpgtt mm = ppgtt.acquire(root);
            if (!ppgtt.pin(mm)) {
                ppgtt.release(mm);
                vgpu.enterFailsafe("cannot shadow the announced PPGTT " + root + ": " + mm.error());
                return;
            }
            announced.put(root, mm);
        } else {
            ShadowPpgtt mm = announced.remove(root);
            if (mm != null) {
                ppgtt.unpin(mm);
                ppgtt.release(mm);
            }
        }
    }

    GgttShadow ggtt() {
        return ggtt;
    }

    PinCache pins() {
        return pins;
    }

    PpgttShadower ppgtt() {
        return ppgtt;
    }

    PageTrackRegistry tracking() {
        return tracking;
    }

    /** The shadow of a PPGTT the guest announced, if it did. */
    Optional<ShadowPpgtt> announced(PpgttRoot root) {
        return Optional.ofNullable(announced.get(root));
    }

    /**
     * Reads a linear 32-bit surface through the host GGTT into {@code pixels} (0xRRGGBB), swapping red and
     * blue for XBGR. A page counts as unmapped, and reads black, unless its host entry is present and holds
     * the device address of the pinned guest page the vGPU's own entry names. Returns the unmapped pages.
     */
    int readSurface(HostGpu gpu, PlaneInfo plane, boolean bgr, int[] pixels) {
        BitSet unmapped = new BitSet();
        long base = plane.graphicsAddress();
        long firstPage = base >>> 12;
        long currentPage = -1;
        MemorySegment page = null;
        for (int y = 0; y < plane.height(); y++) {
            for (int x = 0; x < plane.width(); x++) {
                long address = base + (long) y * plane.stride() + x * 4L;
                long gmPage = address >>> 12;
                if (gmPage != currentPage) {
                    currentPage = gmPage;
                    page = hostPage(gpu, gmPage);
                    if (page == null) {
                        unmapped.set((int) (gmPage - firstPage));
                    }
                }
                int value = page == null ? 0 : page.get(LE_INT, address & 0xFFF);
                pixels[y * plane.width() + x] = bgr
                        ? ((value & 0xFF) << 16) | (value & 0xFF00) | ((value >>> 16) & 0xFF)
                        : value & 0xFF_FFFF;
            }
        }
        return unmapped.cardinality();
    }

    private MemorySegment hostPage(HostGpu gpu, long gmPage) {
        if (gmPage >= gpu.ggttEntries()) {
            return null;
        }
        long host = gpu.ggttRead((int) gmPage);
        if ((host & 1) == 0) {
            return null;
        }
        long gfn = GttEntry.frame(ggtt.guestEntry(gmPage));
        MemorySegment segment = pins.page(gfn);
        if (segment == null || pins.dmaAddress(gfn) != GttEntry.address(host)) {
            return null;
        }
        return segment;
    }

    @Override
    public void close() {
        vgpu.runLocked(() -> {
            announced.clear();
            ppgtt.close();
            ggtt.close();
            pins.close();
            scratch.close();
        });
    }
}
