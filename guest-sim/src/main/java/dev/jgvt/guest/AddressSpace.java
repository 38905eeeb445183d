package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * A process's GPU address space: a 4-level PPGTT in guest RAM with a bump allocator of virtual addresses,
 * which the guest announces to the host through PVINFO (pdp[0] and a g2v "L4 create") as a vGPU-aware
 * driver does, and retires at the end.
 */
final class AddressSpace {
    private static final long PAGE = 4096;
    private static final long ALIGNMENT = 64 << 10;

    private final GuestPlatform platform;
    private final Ppgtt ppgtt;
    private long next;
    private long entries;

    AddressSpace(GuestPlatform platform, FrameAllocator frames, long base) {
        this.platform = requireNonNull(platform, "platform is null");
        this.ppgtt = new Ppgtt(platform, frames);
        this.next = base;
    }

    /** Maps {@code bytes} of contiguous RAM at {@code gpa} at a fresh virtual address, returned. */
    long map(long gpa, long bytes) {
        long length = (bytes + PAGE - 1) & -PAGE;
        long va = next;
        ppgtt.map4k(va, gpa, length);
        entries += length / PAGE;
        next = (va + length + ALIGNMENT - 1) & -ALIGNMENT;
        return va;
    }

    long root() {
        return ppgtt.root();
    }

    Ppgtt ppgtt() {
        return ppgtt;
    }

    long entriesWritten() {
        return entries;
    }

    void announce() {
        notify(ppgtt.root(), PvInfo.G2V_PPGTT_L4_CREATE);
    }

    void retire() {
        notify(ppgtt.root(), PvInfo.G2V_PPGTT_L4_DESTROY);
    }

    static void notify(GuestPlatform platform, long root, int what) {
        platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.PDP0_LO, 4, root & 0xFFFF_FFFFL);
        platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.PDP0_LO + 4, 4, root >>> 32);
        platform.mmioWrite(GuestPlatform.BAR0, PvInfo.PAGE + PvInfo.G2V_NOTIFY, 4, what);
    }

    private void notify(long root, int what) {
        notify(platform, root, what);
    }
}
