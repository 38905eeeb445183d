package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The command workloads a guest runs each frame, on all four engines at once, and the checks of what they
 * wrote:
 * <ul>
 * <li>BCS draws the frame into the back buffer: the gradient is copied from a CPU-drawn source (XY_SRC_COPY_BLT
 * from a privileged GGTT batch on even frames, XY_FAST_COPY_BLT from a PPGTT batch on odd ones), the boxes
 * and the digit are XY_COLOR_BLTs in the PPGTT batch; then every pixel is compared with {@link Picture}.
 * <li>RCS runs two contexts in one ELSP submission: the first stores through MI_STORE_DATA_IMM, PIPE_CONTROL
 * post-sync writes and MI_LOAD_REGISTER_IMM + MI_STORE_REGISTER_MEM into a GGTT results page and PPGTT
 * memory, and calls a PPGTT batch of stores; the second runs in the {@link PteChurn} PPGTT and stores through
 * a page whose entry was just rewritten, which must land in the page's new frame.
 * <li>VCS0 and VECS store through MI_STORE_DATA_IMM and MI_FLUSH_DW post-sync writes, GGTT and PPGTT; the
 * VECS context runs in a legacy 32-bit (3-level) PPGTT, the others in 4-level ones.
 * </ul>
 * Every stored value is unique to the vGPU, frame and slot, and its target is cleared before submission.
 * Each engine's submission ends with MI_USER_INTERRUPT and carries one PIPE_CONTROL or MI_FLUSH_DW with the
 * notify bit: both interrupts must arrive besides the context switch.
 */
final class Workloads {
    private static final long PAGE = 4096;
    /** Virtual address bases of the two address spaces: above 4 GiB, in different PML4 slots. */
    private static final long DRAW_VA = 0x1_0000_0000L;
    private static final long COMPUTE_VA = 0x80_0000_0000L;
    /** The legacy (32-bit, 3-level) address space's base: in its third page directory. */
    private static final long LEGACY_VA = 0x8000_0000L;
    /** Command-accessible render registers the guest loads and stores back. */
    private static final int CS_RING_CTX_SCRATCH = 0x21F0;
    private static final int CS_GPR0 = 0x2600;
    private static final int BATCH_STORES = 32;
    private static final int RING_PAGES = 1;
    /** Rings start 64 bytes before their end, so the first submissions wrap. */
    private static final int RING_START = RING_PAGES * 4096 - 64;

    /** A value an engine must have stored at {@code gpa} (or, if {@code absent}, must not have). */
    record Check(GuestEngine engine, String what, long gpa, int value, boolean absent) {}

    private final GuestPlatform platform;
    private final GuestInterrupts interrupts;
    private final Duration timeout;
    private final int index;
    private final GuestDisplay.Framebuffer[] buffers;
    private final PteChurn churn;
    private final Map<GuestEngine, Execlist> ports = new EnumMap<>(GuestEngine.class);
    private final AddressSpace draw;
    private final AddressSpace compute;
    private final AddressSpace legacy;
    private final long[] bufferVa;
    private final long gradientVa;
    private final GgttMapper.Mapping results;
    private final GgttMapper.Mapping privilegedBatch;
    private final long drawBatchGpa;
    private final long drawBatchVa;
    private final long drawResultsGpa;
    private final long drawResultsVa;
    private final long computeBatchGpa;
    private final long computeBatchVa;
    private final long computeResultsGpa;
    private final long computeResultsVa;
    private final long legacyResultsGpa;
    private final long legacyResultsVa;
    private final LogicalContext blitContext;
    private final LogicalContext renderContext;
    private final LogicalContext churnContext;
    private final LogicalContext videoContext;
    private final LogicalContext enhanceContext;

    private long valuesChecked;
    private long valueMismatches;
    private long pixelsChecked;
    private long pixelMismatches;

    /**
     * Sets everything up: the address spaces (mapping the framebuffers, a gradient drawn once by the CPU,
     * batches and results pages), GGTT pages for status pages, contexts, rings, a privileged batch and a results
     * page, one context per engine (two on RCS), and enables execlists on the four engines.
     */
    Workloads(GuestPlatform platform, GuestInterrupts interrupts, GgttMapper ggtt, FrameAllocator frames, int index,
            GuestDisplay.Framebuffer[] buffers, PteChurn churn, Duration timeout) {
        this.platform = requireNonNull(platform, "platform is null");
        this.interrupts = requireNonNull(interrupts, "interrupts is null");
        this.timeout = requireNonNull(timeout, "timeout is null");
        this.index = index;
        this.buffers = buffers.clone();
        this.churn = requireNonNull(churn, "churn is null");
        GuestDisplay.Framebuffer fb = buffers[0];

        draw = new AddressSpace(platform, new Ppgtt(platform, frames), DRAW_VA);
        bufferVa = new long[buffers.length];
        for (int i = 0; i < buffers.length; i++) {
            bufferVa[i] = draw.map(buffers[i].gpa(), buffers[i].bytes());
        }
        long gradientGpa = frames.run(fb.bytes(), PAGE);
        GuestDisplay.paint(platform, gradientGpa, fb.stride(), fb.width(), fb.height(),
                (x, y) -> Picture.background(index, fb.width(), fb.height(), x, y));
        gradientVa = draw.map(gradientGpa, fb.bytes());
        drawBatchGpa = zeroedFrame(frames);
        drawBatchVa = draw.map(drawBatchGpa, PAGE);
        drawResultsGpa = zeroedFrame(frames);
        drawResultsVa = draw.map(drawResultsGpa, PAGE);

        compute = new AddressSpace(platform, new Ppgtt(platform, frames), COMPUTE_VA);
        computeBatchGpa = zeroedFrame(frames);
        computeBatchVa = compute.map(computeBatchGpa, PAGE);
        computeResultsGpa = zeroedFrame(frames);
        computeResultsVa = compute.map(computeResultsGpa, PAGE);
        legacy = new AddressSpace(platform, new LegacyPpgtt(platform, frames), LEGACY_VA);
        legacyResultsGpa = zeroedFrame(frames);
        legacyResultsVa = legacy.map(legacyResultsGpa, PAGE);
        draw.announce();
        compute.announce();
        legacy.announce();

        results = ggtt.map(1);
        privilegedBatch = ggtt.map(1);
        int id = (index & 0xFF) << 16;
        blitContext = new LogicalContext(platform, ggtt, GuestEngine.BCS, id | 0x101, RING_PAGES, RING_START, draw.tables());
        renderContext = new LogicalContext(platform, ggtt, GuestEngine.RCS, id | 0x201, RING_PAGES, RING_START, compute.tables());
        churnContext = new LogicalContext(platform, ggtt, GuestEngine.RCS, id | 0x202, RING_PAGES, RING_START, churn.tables());
        videoContext = new LogicalContext(platform, ggtt, GuestEngine.VCS0, id | 0x301, RING_PAGES, RING_START, compute.tables());
        enhanceContext = new LogicalContext(platform, ggtt, GuestEngine.VECS, id | 0x401, RING_PAGES, RING_START, legacy.tables());
        for (GuestEngine engine : GuestEngine.values()) {
            Execlist port = new Execlist(platform, interrupts, ggtt, engine);
            port.enable();
            ports.put(engine, port);
        }
    }

    private long zeroedFrame(FrameAllocator frames) {
        long gpa = frames.frame();
        Ram.clear(platform, gpa, PAGE);
        return gpa;
    }

    /**
     * Runs frame {@code frame}'s workloads, drawing into buffer {@code back}; {@code remap} is the churn step's
     * moved page, if one moved. Waits for all engines, at most the timeout; errors go to {@code errors}.
     */
    void runFrame(int frame, int back, Optional<PteChurn.Remap> remap, List<String> errors) throws InterruptedException {
        List<Check> checks = new ArrayList<>();
        List<Execlist> submitted = new ArrayList<>();
        if (usable(GuestEngine.BCS)) {
            blit(frame, back, checks);
            submitted.add(ports.get(GuestEngine.BCS));
        }
        if (usable(GuestEngine.RCS)) {
            render(frame, remap, checks);
            submitted.add(ports.get(GuestEngine.RCS));
        }
        for (GuestEngine engine : new GuestEngine[] {GuestEngine.VCS0, GuestEngine.VECS}) {
            if (usable(engine)) {
                media(engine, frame, checks);
                submitted.add(ports.get(engine));
            }
        }
        boolean finished = interrupts.awaitUntil(() -> {
            boolean all = true;
            for (Execlist port : submitted) {
                all &= port.poll();
            }
            return all;
        }, timeout);
        for (Execlist port : submitted) {
            if (!finished) {
                port.timedOut("frame " + frame);
            }
            port.takeErrors().forEach(e -> errors.add("frame " + frame + ": " + e));
        }
        verify(frame, checks, errors);
        if (submitted.contains(ports.get(GuestEngine.BCS)) && ports.get(GuestEngine.BCS).succeeded()) {
            verifyPixels(frame, buffers[back], errors);
        }
    }

    private boolean usable(GuestEngine engine) {
        return !ports.get(engine).wedged();
    }

    private int token(int frame, int slot) {
        int h = index * 0x9E37_79B9 + frame * 0x85EB_CA6B + slot * 0xC2B2_AE35;
        h ^= h >>> 16;
        h *= 0x7FEB_352D;
        h ^= h >>> 15;
        return h == 0 ? 1 : h;
    }

    private void expect(List<Check> checks, GuestEngine engine, String what, long gpa, int value) {
        Ram.writeInt(platform, gpa, 0);
        checks.add(new Check(engine, what, gpa, value, false));
    }

    // ---- BCS ---------------------------------------------------------------------------------------------

    private void blit(int frame, int back, List<Check> checks) {
        GuestDisplay.Framebuffer fb = buffers[back];
        long dst = bufferVa[back];
        int w = fb.width();
        int h = fb.height();
        int pitch = fb.stride();

        CommandList privileged = new CommandList();
        privileged.add(Commands.setupBlt(dst, pitch, 0));
        if (frame % 2 == 0) {
            privileged.add(Commands.srcCopyBlt(dst, pitch, 0, 0, w, h, gradientVa, pitch, 0, 0));
        }
        int t0 = token(frame, 0x100);
        privileged.add(Commands.storeDataImm(results.gma() + 0x108, true, t0));
        privileged.add(Commands.batchBufferEnd());
        expect(checks, GuestEngine.BCS, "MI_STORE_DATA_IMM (GGTT, privileged batch)", results.gpa() + 0x108, t0);
        Ram.writeInts(platform, privilegedBatch.gpa(), privileged.toArray());

        CommandList user = new CommandList();
        if (frame % 2 == 1) {
            user.add(Commands.fastCopyBlt(dst, pitch, 0, 0, w, h, gradientVa, pitch, 0, 0));
        }
        for (Picture.Rect r : Picture.overlays(index, frame, w, h)) {
            user.add(Commands.colorBlt(dst, pitch, r.x(), r.y(), r.width(), r.height(), r.colour()));
        }
        int t1 = token(frame, 0x101);
        user.add(Commands.storeDataImm(drawResultsVa, false, t1));
        user.add(Commands.batchBufferEnd());
        expect(checks, GuestEngine.BCS, "MI_STORE_DATA_IMM (PPGTT batch)", drawResultsGpa, t1);
        Ram.writeInts(platform, drawBatchGpa, user.toArray());

        RingBuffer ring = blitContext.ring();
        ring.emit(Commands.batchBufferStart(privilegedBatch.gma(), false));
        ring.emit(Commands.batchBufferStart(drawBatchVa, true));
        int t2 = token(frame, 0x102);
        ring.emit(Commands.flushDwStore(results.gma() + 0x100, true, t2, true));
        ring.emit(Commands.userInterrupt());
        expect(checks, GuestEngine.BCS, "MI_FLUSH_DW post-sync (GGTT)", results.gpa() + 0x100, t2);
        ports.get(GuestEngine.BCS).submit(ports.get(GuestEngine.BCS).events(), blitContext);
    }

    private void verifyPixels(int frame, GuestDisplay.Framebuffer fb, List<String> errors) {
        List<Picture.Rect> overlays = Picture.overlays(index, frame, fb.width(), fb.height());
        long wrong = 0;
        String first = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment row = arena.allocate(fb.stride());
            for (int y = 0; y < fb.height(); y++) {
                platform.ramRead(fb.gpa() + (long) y * fb.stride(), row);
                for (int x = 0; x < fb.width(); x++) {
                    int got = row.get(Ram.LE_INT, 4L * x);
                    int want = Picture.pixel(overlays, index, fb.width(), fb.height(), x, y);
                    if (got != want) {
                        if (first == null) {
                            first = String.format("(%d,%d) is 0x%08x, expected 0x%08x", x, y, got, want);
                        }
                        wrong++;
                    }
                }
            }
        }
        pixelsChecked += (long) fb.width() * fb.height();
        pixelMismatches += wrong;
        if (wrong > 0) {
            errors.add(String.format("frame %d: %d of %d blitted pixels are wrong, first %s", frame, wrong,
                    (long) fb.width() * fb.height(), first));
        }
    }

    // ---- RCS ---------------------------------------------------------------------------------------------

    private void render(int frame, Optional<PteChurn.Remap> remap, List<Check> checks) {
        GuestEngine rcs = GuestEngine.RCS;
        CommandList batch = new CommandList();
        for (int i = 0; i < BATCH_STORES; i++) {
            int v = token(frame, 0x20 + i);
            batch.add(Commands.storeDataImm(computeResultsVa + 0x100 + 4L * i, false, v));
            expect(checks, rcs, "MI_STORE_DATA_IMM #" + i + " (PPGTT batch)", computeResultsGpa + 0x100 + 4L * i, v);
        }
        int gpr = token(frame, 0x40);
        batch.add(Commands.loadRegisterImm(CS_GPR0, gpr));
        batch.add(Commands.storeRegisterMem(CS_GPR0, computeResultsVa + 0x300, false));
        expect(checks, rcs, "MI_LOAD_REGISTER_IMM + MI_STORE_REGISTER_MEM of CS_GPR0 (PPGTT batch)", computeResultsGpa + 0x300, gpr);
        batch.add(Commands.arbCheck());
        batch.add(Commands.batchBufferEnd());
        Ram.writeInts(platform, computeBatchGpa, batch.toArray());

        RingBuffer ring = renderContext.ring();
        int a = token(frame, 1);
        ring.emit(Commands.storeDataImm(results.gma(), true, a));
        expect(checks, rcs, "MI_STORE_DATA_IMM (GGTT)", results.gpa(), a);
        int b0 = token(frame, 2);
        int b1 = token(frame, 3);
        ring.emit(Commands.pipeControlStore(results.gma() + 0x8, true, b0, b1));
        expect(checks, rcs, "PIPE_CONTROL post-sync low dword (GGTT)", results.gpa() + 0x8, b0);
        expect(checks, rcs, "PIPE_CONTROL post-sync high dword (GGTT)", results.gpa() + 0xC, b1);
        int c = token(frame, 4);
        ring.emit(Commands.storeDataImm(computeResultsVa, false, c));
        expect(checks, rcs, "MI_STORE_DATA_IMM (PPGTT)", computeResultsGpa, c);
        int d0 = token(frame, 5);
        int d1 = token(frame, 6);
        ring.emit(Commands.pipeControlStore(computeResultsVa + 0x8, false, d0, d1, true));
        expect(checks, rcs, "PIPE_CONTROL post-sync low dword (PPGTT)", computeResultsGpa + 0x8, d0);
        expect(checks, rcs, "PIPE_CONTROL post-sync high dword (PPGTT)", computeResultsGpa + 0xC, d1);
        int e = token(frame, 7);
        ring.emit(Commands.loadRegisterImm(rcs.base() + (CS_RING_CTX_SCRATCH - 0x2000), e));
        ring.emit(Commands.storeRegisterMem(rcs.base() + (CS_RING_CTX_SCRATCH - 0x2000), results.gma() + 0x10, true));
        expect(checks, rcs, "MI_LOAD_REGISTER_IMM + MI_STORE_REGISTER_MEM (GGTT)", results.gpa() + 0x10, e);
        ring.emit(Commands.batchBufferStart(computeBatchVa, true));
        ring.emit(Commands.arbCheck());
        ring.emit(Commands.userInterrupt());

        long va = remap.map(PteChurn.Remap::va).orElse(PteChurn.WINDOW);
        long offset = (frame * 8L) % PAGE;
        long target = churn.translate(va);
        int f = token(frame, 8);
        RingBuffer churnRing = churnContext.ring();
        churnRing.emit(Commands.storeDataImm(va + offset, false, f));
        churnRing.emit(Commands.userInterrupt());
        expect(checks, rcs, String.format("MI_STORE_DATA_IMM through remapped PPGTT page 0x%x", va), target + offset, f);
        if (remap.isPresent() && remap.get().oldFrame() != target) {
            Ram.writeInt(platform, remap.get().oldFrame() + offset, 0);
            checks.add(new Check(rcs, String.format("no store in the frame PPGTT page 0x%x mapped before", va),
                    remap.get().oldFrame() + offset, f, true));
        }
        ports.get(rcs).submit(ports.get(rcs).events(), renderContext, churnContext);
    }

    // ---- VCS0 / VECS -------------------------------------------------------------------------------------

    private void media(GuestEngine engine, int frame, List<Check> checks) {
        LogicalContext context = engine == GuestEngine.VCS0 ? videoContext : enhanceContext;
        long ggtt = engine == GuestEngine.VCS0 ? 0x200 : 0x300;
        // VCS0 runs in the 4-level compute space, VECS in the legacy 32-bit one
        long ppgttVa = engine == GuestEngine.VCS0 ? computeResultsVa + 0x400 : legacyResultsVa;
        long ppgttGpa = engine == GuestEngine.VCS0 ? computeResultsGpa + 0x400 : legacyResultsGpa;
        int slot = (int) ggtt;
        RingBuffer ring = context.ring();
        int a = token(frame, slot);
        ring.emit(Commands.storeDataImm(results.gma() + ggtt, true, a));
        expect(checks, engine, "MI_STORE_DATA_IMM (GGTT)", results.gpa() + ggtt, a);
        int b = token(frame, slot + 1);
        ring.emit(Commands.flushDwStore(results.gma() + ggtt + 8, true, b));
        expect(checks, engine, "MI_FLUSH_DW post-sync (GGTT)", results.gpa() + ggtt + 8, b);
        int c = token(frame, slot + 2);
        ring.emit(Commands.storeDataImm(ppgttVa, false, c));
        expect(checks, engine, "MI_STORE_DATA_IMM (PPGTT)", ppgttGpa, c);
        int d = token(frame, slot + 3);
        ring.emit(Commands.flushDwStore(ppgttVa + 8, false, d, true));
        expect(checks, engine, "MI_FLUSH_DW post-sync (PPGTT)", ppgttGpa + 8, d);
        ring.emit(Commands.userInterrupt());
        ports.get(engine).submit(ports.get(engine).events(), context);
    }

    private void verify(int frame, List<Check> checks, List<String> errors) {
        for (Check check : checks) {
            if (!ports.get(check.engine()).succeeded()) {
                continue;
            }
            int got = Ram.readInt(platform, check.gpa());
            valuesChecked++;
            boolean ok = check.absent() ? got != check.value() : got == check.value();
            if (!ok) {
                valueMismatches++;
                errors.add(check.absent()
                        ? String.format("frame %d %s: %s found 0x%08x at 0x%x", frame, check.engine(), check.what(), got, check.gpa())
                        : String.format("frame %d %s: %s stored 0x%08x at 0x%x, expected 0x%08x", frame, check.engine(),
                                check.what(), got, check.gpa(), check.value()));
            }
        }
    }

    /** Tells the host the address spaces are gone. */
    void retire() {
        draw.retire();
        compute.retire();
        legacy.retire();
    }

    long submissions() {
        return ports.values().stream().mapToLong(Execlist::submissions).sum();
    }

    Map<GuestEngine, Long> completions() {
        Map<GuestEngine, Long> completions = new EnumMap<>(GuestEngine.class);
        ports.forEach((engine, port) -> completions.put(engine, (long) port.completions()));
        return completions;
    }

    long ppgttEntriesWritten() {
        return draw.entriesWritten() + compute.entriesWritten() + legacy.entriesWritten();
    }

    long valuesChecked() {
        return valuesChecked;
    }

    long valueMismatches() {
        return valueMismatches;
    }

    long pixelsChecked() {
        return pixelsChecked;
    }

    long pixelMismatches() {
        return pixelMismatches;
    }

    int engineResets() {
        return ports.values().stream().mapToInt(Execlist::resets).sum();
    }

    /** Commands appended into one batch. */
    private static final class CommandList {
        private int[] dwords = new int[64];
        private int size;

        void add(int[] command) {
            if (size + command.length > dwords.length) {
                dwords = Arrays.copyOf(dwords, Math.max(dwords.length * 2, size + command.length));
            }
            System.arraycopy(command, 0, dwords, size, command.length);
            size += command.length;
        }

        int[] toArray() {
            if (4L * size > PAGE) {
                throw new GuestException("a batch of " + size + " dwords does not fit its page");
            }
            return Arrays.copyOf(dwords, size);
        }
    }
}
