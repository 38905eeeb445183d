package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal guest for measuring submission: brings the vGPU up, then submits the same small blitter workload
 * on one context again and again, each time waiting (on the context-switch interrupt and the CSB, as the
 * full driver does) until it completed and checking its store. The workload is {@link #commands}: a solid fill
 * of a square of a 32-bpp surface (64x64 unless another side is given), a store of a sequence number and a flush.
 */
public final class SubmitLoop {
    /** Side of the square the workload fills. */
    public static final int FILL = 64;
    /** Bytes of the surface the workload fills (pitch {@code FILL * 4}). */
    public static final int SURFACE_BYTES = FILL * FILL * 4;
    private static final long SURFACE_VA = 0x4000_0000L;
    private static final long PAGE = 4096;

    private final GuestPlatform platform;
    private final GuestInterrupts interrupts;
    private final Execlist port;
    private final LogicalContext context;
    private final GgttMapper.Mapping results;
    private final long surfaceVa;
    private final int maxSide;
    private int side;
    private final List<String> errors = new ArrayList<>();
    private int sequence;

    /** Brings up the vGPU behind {@code platform} (PCI function {@code slot}) and prepares one BCS context. */
    public SubmitLoop(GuestPlatform platform, int slot) {
        this(platform, slot, FILL);
    }

    /** As {@link #SubmitLoop(GuestPlatform, int)}, with workloads that fill a square of {@code side} pixels. */
    public SubmitLoop(GuestPlatform platform, int slot, int side) {
        this(platform, slot, side, side);
    }

    /**
     * As {@link #SubmitLoop(GuestPlatform, int, int)}, with a surface large enough for fills of up to {@code maxSide}
     * pixels square, so that {@link #side(int)} may change the fill later.
     */
    public SubmitLoop(GuestPlatform platform, int slot, int side, int maxSide) {
        this.platform = requireNonNull(platform, "platform is null");
        if (maxSide < 1 || maxSide > 4096) {
            throw new IllegalArgumentException("fill side must be in [1, 4096]: " + maxSide);
        }
        this.maxSide = maxSide;
        side(side);
        PciDevice.enumerate(platform, GuestDriver.MMIO_BASE, GuestDriver.MSI_ADDRESS, 0x30 + slot);
        PvInfo info = PvInfo.read(platform);
        FrameAllocator frames = new FrameAllocator(GuestDriver.RESERVED_RAM, platform.ramSize());
        GgttMapper ggtt = new GgttMapper(platform, new GmAllocator(info.hiddenBase(), info.hiddenSize()), frames);
        this.interrupts = new GuestInterrupts(platform);
        AddressSpace space = new AddressSpace(platform, new Ppgtt(platform, frames), SURFACE_VA);
        long surfaceBytes = surfaceBytes(maxSide);
        long surfaceGpa = frames.run(surfaceBytes, PAGE);
        Ram.clear(platform, surfaceGpa, surfaceBytes);
        this.surfaceVa = space.map(surfaceGpa, surfaceBytes);
        space.announce();
        this.results = ggtt.map(1);
        this.context = new LogicalContext(platform, ggtt, GuestEngine.BCS, 0x5B01, 4, 0, space.tables());
        this.port = new Execlist(platform, interrupts, ggtt, GuestEngine.BCS);
        port.enable();
    }

    /** Makes later workloads fill a square of {@code side} pixels (at most the surface's side). */
    public void side(int side) {
        if (side < 1 || side > maxSide) {
            throw new IllegalArgumentException("fill side must be in [1, " + maxSide + "]: " + side);
        }
        this.side = side;
    }

    /**
     * The workload: XY_COLOR_BLT of a {@value #FILL}x{@value #FILL} square at {@code surface} (pitch
     * {@code FILL * 4}), MI_STORE_DATA_IMM of {@code value} at {@code store} (a GGTT address), MI_FLUSH_DW.
     */
    public static int[] commands(long surface, long store, int value) {
        return commands(surface, store, value, FILL);
    }

    /** The workload with a fill of {@code side} x {@code side} pixels (pitch {@code side * 4}). */
    public static int[] commands(long surface, long store, int value, int side) {
        int[] fill = Commands.colorBlt(surface, side * 4, 0, 0, side, side, 0x00FF_8000 | (value & 0xFF));
        int[] stored = Commands.storeDataImm(store, true, value);
        int[] flush = Commands.flushDwStore(store + 8, true, value);
        int[] all = new int[fill.length + stored.length + flush.length];
        System.arraycopy(fill, 0, all, 0, fill.length);
        System.arraycopy(stored, 0, all, fill.length, stored.length);
        System.arraycopy(flush, 0, all, fill.length + stored.length, flush.length);
        return all;
    }

    /**
     * Submits the workload once and waits for it. Returns false (and records why in {@link #errors()}) when it
     * did not complete within {@code timeout}, its CSB events were wrong, or its store is missing.
     */
    public boolean submitOnce(Duration timeout) throws InterruptedException {
        int value = ++sequence;
        context.ring().emit(commands(surfaceVa, results.gma(), value, side));
        port.submit(0, context);
        boolean finished = interrupts.awaitUntil(port::poll, timeout);
        if (!finished) {
            port.timedOut("submission " + value);
        }
        errors.addAll(port.takeErrors());
        if (!finished || !port.succeeded()) {
            return false;
        }
        int stored = Ram.readInt(platform, results.gpa());
        if (stored != value) {
            errors.add("submission " + value + ": the store reads " + stored);
            return false;
        }
        return true;
    }

    /**
     * Checks the CSB registers against the status page only on every {@code n}-th submission (1, the default: on each);
     * the CSB itself is always read from the status page, as i915 does, and its events always checked. A benchmark
     * guest that stands in for i915 uses a large {@code n}: i915 never reads the CSB registers, so the check's five
     * trapped MMIO reads per submission would be the simulator's cost, not the guest's.
     */
    public void checkCsbRegistersEvery(int n) {
        port.checkCsbRegistersEvery(n);
    }

    /** Bytes of the surface a fill of {@code side} x {@code side} 32-bpp pixels covers. */
    public static long surfaceBytes(int side) {
        return (long) side * side * 4;
    }

    /** What went wrong so far. */
    public List<String> errors() {
        return List.copyOf(errors);
    }
}
