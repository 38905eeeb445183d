package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;

/**
 * A small i915-like guest driver: brings the vGPU up (PCI, PVINFO, interrupts), double-buffers a
 * framebuffer in its aperture balloon, and each frame draws the back buffer with the blitter while the
 * render, video and video-enhancement engines run store workloads, all submitted through execlists (logical
 * ring contexts in GGTT, 4-level PPGTTs in its RAM, ELSP, CSB and context-switch interrupts, see
 * {@link Workloads}); then it flips to the new frame and waits for the flip-done interrupt, and rewrites
 * entries of a PPGTT it announced to the host (every write to those tables is a trap the host must see).
 * It checks what it can observe and reports anything a correct device would not do.
 */
public final class GuestDriver {
    /** Where firmware put the device's BARs and where MSIs go; fixed like a VM's PCI hole. */
    static final long MMIO_BASE = 0xC000_0000L;
    static final int MSI_ADDRESS = 0xFEE0_0000;
    /** RAM below this is the guest kernel's; the driver allocates above it. */
    static final long RESERVED_RAM = 1L << 20;
    private static final long PAGE = 4096;
    private static final int MAX_ERRORS = 100;
    private static final int GDRST_FULL = 1;

    private final GuestPlatform platform;
    private final int index;
    private final int width;
    private final int height;
    private final Duration submitTimeout;
    private final Duration flipTimeout;

    /**
     * What one run observed.
     *
     * @param submissions ELSP submissions written (an RCS submission carries two contexts)
     * @param completions contexts each engine completed, as its CSB reported them
     * @param valuesChecked values stored by the engines that the guest read back
     * @param valueMismatches of those, the ones that were wrong
     * @param pixelsChecked blitted pixels the guest compared with {@link Picture}
     * @param pixelMismatches of those, the ones that were wrong
     * @param engineResets engine resets (GDRST) the guest did after a timeout or wrong CSB events
     */
    public record Report(int frames, int flipsCompleted, long msis, long ggttEntriesWritten, long ppgttEntriesWritten,
            int lastFrame, long submissions, Map<GuestEngine, Long> completions, long valuesChecked,
            long valueMismatches, long pixelsChecked, long pixelMismatches, int engineResets, List<String> errors) {
        public Report {
            completions = Map.copyOf(completions);
            errors = List.copyOf(errors);
        }

        /** A report of a guest that did not run at all. */
        public static Report failed(String error) {
            return new Report(0, 0, 0, 0, 0, -1, 0, Map.of(), 0, 0, 0, 0, 0, List.of(error));
        }
    }

    public GuestDriver(GuestPlatform platform, int index, int width, int height) {
        this(platform, index, width, height, Duration.ofSeconds(10), Duration.ofSeconds(2));
    }

    /** With the longest waits for a frame's submissions and for a flip; past them the guest reports an error. */
    GuestDriver(GuestPlatform platform, int index, int width, int height, Duration submitTimeout, Duration flipTimeout) {
        this.submitTimeout = requireNonNull(submitTimeout, "submitTimeout is null");
        this.flipTimeout = requireNonNull(flipTimeout, "flipTimeout is null");
        this.platform = requireNonNull(platform, "platform is null");
        if (width < 16 || height < 16 || width > 4096 || height > 4096) {
            throw new IllegalArgumentException("display size " + width + "x" + height + " is not in 16..4096");
        }
        this.index = index;
        this.width = width;
        this.height = height;
    }

    /**
     * Runs until {@code frames} frames were shown or {@code keepGoing} says stop (asked from the second frame
     * on: a display always gets one frame); {@code progress} hears each completed frame. Never throws for the device's misbehaviour: that goes into the report's errors.
     */
    public Report run(int frames, java.util.function.BooleanSupplier keepGoing, IntConsumer progress)
            throws InterruptedException {
        List<String> errors = new ArrayList<>();
        long ggttWrites = 0;
        long ppgttWrites = 0;
        int flips = 0;
        int shown = 0;
        int last = -1;
        long msiAtStart = platform.msiCount();
        Workloads work = null;
        GgttMapper ggtt = null;
        try {
            PciDevice.enumerate(platform, MMIO_BASE, MSI_ADDRESS, 0x30 + index);
            PvInfo info = PvInfo.read(platform);
            for (int cap : new int[] {PvInfo.CAP_FULL_PPGTT, PvInfo.CAP_HWSP_EMULATION}) {
                if (!info.has(cap)) {
                    throw new GuestException(String.format("PVINFO caps 0x%x lack 0x%x, which this driver needs", info.caps(), cap));
                }
            }
            resetGpu();
            GmAllocator aperture = new GmAllocator(info.apertureBase(), info.apertureSize());
            GmAllocator hidden = new GmAllocator(info.hiddenBase(), info.hiddenSize());
            FrameAllocator frames0 = new FrameAllocator(RESERVED_RAM, platform.ramSize());
            GuestInterrupts interrupts = new GuestInterrupts(platform);
            interrupts.enablePipeA(GuestInterrupts.PIPE_FLIP_DONE);
            GuestDisplay display = new GuestDisplay(platform);
            GuestDisplay.Framebuffer[] buffers = {
                display.allocate(aperture, frames0, width, height), display.allocate(aperture, frames0, width, height)
            };
            for (GuestDisplay.Framebuffer fb : buffers) {
                ggttWrites += fb.bytes() / PAGE;
                checkGgtt(display, fb, errors);
            }
            PteChurn churn = new PteChurn(platform, frames0, index);
            ppgttWrites += churn.announce();
            ggtt = new GgttMapper(platform, hidden, frames0);
            work = new Workloads(platform, interrupts, ggtt, frames0, index, buffers, churn, submitTimeout);

            Optional<PteChurn.Remap> remap = Optional.empty();
            for (int frame = 0; frame < frames && (frame == 0 || keepGoing.getAsBoolean()); frame++) {
                int back = frame & 1;
                work.runFrame(frame, back, remap, errors);
                interrupts.consume(GuestInterrupts.Group.PIPE_A, GuestInterrupts.PIPE_FLIP_DONE);
                if (frame == 0) {
                    display.scanOut(buffers[back]);
                } else {
                    display.flip(buffers[back]);
                }
                if (interrupts.awaitUntil(() -> interrupts.consume(GuestInterrupts.Group.PIPE_A, GuestInterrupts.PIPE_FLIP_DONE),
                        flipTimeout)) {
                    flips++;
                } else {
                    errors.add("frame " + frame + ": no flip-done interrupt within " + flipTimeout.toMillis() + " ms");
                }
                remap = churn.step();
                ppgttWrites += PteChurn.entriesPerStep();
                shown++;
                last = frame;
                progress.accept(frame);
            }
            work.retire();
            churn.retire();
        } catch (GuestException e) {
            errors.add(e.getMessage());
        } catch (RuntimeException e) {
            errors.add("the device failed an access: " + e);
        }
        if (ggtt != null) {
            ggttWrites += ggtt.entriesWritten();
        }
        if (errors.size() > MAX_ERRORS) {
            int more = errors.size() - MAX_ERRORS;
            errors.subList(MAX_ERRORS, errors.size()).clear();
            errors.add("... and " + more + " more errors");
        }
        return work == null
                ? new Report(shown, flips, platform.msiCount() - msiAtStart, ggttWrites, ppgttWrites, last, 0, Map.of(),
                        0, 0, 0, 0, 0, errors)
                : new Report(shown, flips, platform.msiCount() - msiAtStart, ggttWrites,
                        ppgttWrites + work.ppgttEntriesWritten(), last, work.submissions(), work.completions(),
                        work.valuesChecked(), work.valueMismatches(), work.pixelsChecked(), work.pixelMismatches(),
                        work.engineResets(), errors);
    }

    /**
     * Resets the whole GT through GDRST before using it, as a driver does when it loads: whatever a previous
     * driver (an earlier boot of this guest) left in the engines, their execlists and CSBs start from reset.
     */
    private void resetGpu() throws InterruptedException {
        platform.mmioWrite(GuestPlatform.BAR0, GuestEngine.GDRST, 4, GDRST_FULL);
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        while ((platform.mmioRead(GuestPlatform.BAR0, GuestEngine.GDRST, 4) & GDRST_FULL) != 0) {
            if (System.nanoTime() - deadline >= 0) {
                throw new GuestException("the GDRST full reset did not complete within 1 s");
            }
            Thread.sleep(1);
        }
    }

    private static void checkGgtt(GuestDisplay display, GuestDisplay.Framebuffer fb, List<String> errors) {
        for (long off = 0; off < fb.bytes(); off += PAGE) {
            long entry = display.readGgtt(fb.gma() + off);
            if ((entry & ~(PAGE - 1)) != fb.gpa() + off || (entry & 1) == 0) {
                errors.add(String.format("GGTT entry for GM 0x%x reads 0x%x, wrote 0x%x", fb.gma() + off, entry,
                        (fb.gpa() + off) | 1));
                return;
            }
        }
    }
}
