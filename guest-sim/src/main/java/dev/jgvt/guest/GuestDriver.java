package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * A small i915-like guest driver: brings the vGPU up (PCI, PVINFO, interrupts), double-buffers a
 * framebuffer in its aperture balloon and flips between the buffers, waiting for each flip-done interrupt,
 * and churns the entries of a PPGTT it announced to the host (every write to those tables is a trap the
 * host must see). It checks what it can observe and reports anything a correct device would not do.
 *
 * <p>What it does not do yet: build logical ring contexts and submit command buffers through ELSP (the
 * submission pipeline is not built).
 */
public final class GuestDriver {
    /** Where firmware put the device's BARs and where MSIs go; fixed like a VM's PCI hole. */
    static final long MMIO_BASE = 0xC000_0000L;
    static final int MSI_ADDRESS = 0xFEE0_0000;
    /** RAM below this is the guest kernel's; the driver allocates above it. */
    static final long RESERVED_RAM = 1L << 20;
    private static final long PAGE = 4096;

    private final GuestPlatform platform;
    private final int index;
    private final int width;
    private final int height;

    /** What one run observed. */
    public record Report(int frames, int flipsCompleted, long msis, long ggttEntriesWritten, long ppgttEntriesWritten,
            int lastFrame, List<String> errors) {
        public Report {
            errors = List.copyOf(errors);
        }
    }

    public GuestDriver(GuestPlatform platform, int index, int width, int height) {
        this.platform = requireNonNull(platform, "platform is null");
        if (width < 16 || height < 16 || width > 4096 || height > 4096) {
            throw new IllegalArgumentException("display size " + width + "x" + height + " is not in 16..4096");
        }
        this.index = index;
        this.width = width;
        this.height = height;
    }

    /**
     * Runs until {@code frames} frames were shown or {@code keepGoing} says stop; {@code progress} hears each
     * completed frame. Never throws for the device's misbehaviour: that goes into the report's errors.
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
        try {
            PciDevice.enumerate(platform, MMIO_BASE, MSI_ADDRESS, 0x30 + index);
            PvInfo info = PvInfo.read(platform);
            GmAllocator aperture = new GmAllocator(info.apertureBase(), info.apertureSize());
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

            for (int frame = 0; frame < frames && keepGoing.getAsBoolean(); frame++) {
                GuestDisplay.Framebuffer back = buffers[frame & 1];
                display.draw(back, index, frame);
                long seen = platform.msiCount();
                if (frame == 0) {
                    display.scanOut(back);
                } else {
                    display.flip(back);
                }
                if (awaitFlip(interrupts, seen)) {
                    flips++;
                } else {
                    errors.add("frame " + frame + ": no flip-done interrupt within 2 s");
                }
                ppgttWrites += churn.step();
                shown++;
                last = frame;
                progress.accept(frame);
            }
            ppgttWrites += churn.retire();
        } catch (GuestException e) {
            errors.add(e.getMessage());
        } catch (RuntimeException e) {
            errors.add("the device failed an access: " + e);
        }
        return new Report(shown, flips, platform.msiCount() - msiAtStart, ggttWrites, ppgttWrites, last, errors);
    }

    private boolean awaitFlip(GuestInterrupts interrupts, long seen) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        long count = seen;
        while (System.nanoTime() < deadline) {
            count = platform.awaitMsi(count, Duration.ofMillis(50));
            GuestInterrupts.Pending pending = interrupts.handle();
            if ((pending.pipeA() & GuestInterrupts.PIPE_FLIP_DONE) != 0) {
                return true;
            }
        }
        return false;
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

    /**
     * A PPGTT the guest announces to the host through PVINFO and then keeps rewriting: each step remaps a
     * few random pages of a 2 MiB window to other frames, as a driver binding and unbinding objects does.
     * Every entry written after the announcement lands in a page-table page the host tracks.
     */
    static final class PteChurn {
        private static final long WINDOW = 0x4000_0000L;
        private static final int PAGES = 512;
        private final GuestPlatform platform;
        private final Ppgtt ppgtt;
        private final long[] frames = new long[64];
        private final SplittableRandom random;

        PteChurn(GuestPlatform platform, FrameAllocator allocator, int seed) {
            this.platform = platform;
            this.ppgtt = new Ppgtt(platform, allocator);
            this.random = new SplittableRandom(seed);
            for (int i = 0; i < frames.length; i++) {
                frames[i] = allocator.frame();
            }
        }

        /** Maps the window, then tells the host (PVINFO pdp[0] + g2v L4 create). Returns entries written. */
        int announce() {
            for (int page = 0; page < PAGES; page++) {
                ppgtt.map4k(WINDOW + page * PAGE, frames[page % frames.length], PAGE);
            }
            platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.PDP0_LO, 4, ppgtt.root() & 0xFFFF_FFFFL);
            platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.PDP0_LO + 4, 4, ppgtt.root() >>> 32);
            platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.G2V_NOTIFY, 4, PvInfo.G2V_PPGTT_L4_CREATE);
            return PAGES;
        }

        /** Remaps 16 random pages of the window. */
        int step() {
            for (int i = 0; i < 16; i++) {
                int page = random.nextInt(PAGES);
                ppgtt.map4k(WINDOW + page * PAGE, frames[random.nextInt(frames.length)], PAGE);
            }
            return 16;
        }

        /** Tells the host the PPGTT is gone. */
        int retire() {
            platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.G2V_NOTIFY, 4, PvInfo.G2V_PPGTT_L4_DESTROY);
            return 0;
        }
    }
}
