package dev.jgvt.guest;

import static java.util.Objects.requireNonNull;

/**
 * A logical ring context the guest owns: its pages in guest RAM mapped through the GGTT (page 0 the
 * per-process status page, page 1 the register state, the rest engine state left zero), its ring buffer,
 * and the PPGTT it runs in. Submitting means: commands into the ring, the new tail into the image's
 * RING_TAIL, then the descriptor into ELSP. The engine writes RING_HEAD back when it switches out.
 */
final class LogicalContext {
    private static final long PAGE = 4096;

    private final GuestPlatform platform;
    private final GuestEngine engine;
    private final int id;
    private final GgttMapper.Mapping pages;
    private final RingBuffer ring;
    private final boolean fourLevel;

    /**
     * Allocates and writes a context of {@code engine} named {@code id}, with a ring of {@code ringPages} pages
     * that starts empty at byte offset {@code ringStart}, running in the PPGTT {@code tables}.
     */
    LogicalContext(GuestPlatform platform, GgttMapper ggtt, GuestEngine engine, int id, int ringPages, int ringStart,
            PageTables tables) {
        this.platform = requireNonNull(platform, "platform is null");
        this.engine = requireNonNull(engine, "engine is null");
        this.id = id;
        this.fourLevel = tables.fourLevel();
        GgttMapper.Mapping ringPagesMapping = ggtt.map(ringPages);
        this.ring = new RingBuffer(platform, ringPagesMapping.gma(), ringPagesMapping.gpa(), ringPages * (int) PAGE,
                ringStart);
        this.pages = ggtt.map(engine.contextPages());
        Ram.writeInts(platform, registerState(), ContextImage.registerState(engine, ring.gma(), ring.bytes(),
                ring.head(), ring.tail(), tables.pdps()));
    }

    GuestEngine engine() {
        return engine;
    }

    int id() {
        return id;
    }

    RingBuffer ring() {
        return ring;
    }

    /** The graphics address of the context (its LRCA). */
    long lrca() {
        return pages.gma();
    }

    long descriptor() {
        return ContextImage.descriptor(lrca(), id, fourLevel);
    }

    private long registerState() {
        return pages.gpa() + PAGE;
    }

    /** Publishes the ring's tail in the context image (RING_TAIL's value dword). */
    void publishTail() {
        Ram.writeInt(platform, registerState() + 4L * (ContextImage.RING_TAIL + 1), ring.tail());
    }

    /** After an engine reset: the unfinished commands are dropped, the image's RING_HEAD set to the tail. */
    void skipToTail() {
        Ram.writeInt(platform, registerState() + 4L * (ContextImage.RING_HEAD + 1), ring.tail());
        ring.consumed(ring.tail());
    }

    /** RING_HEAD's value as the image holds it now. */
    int imageHead() {
        return Ram.readInt(platform, registerState() + 4L * (ContextImage.RING_HEAD + 1)) & 0x1F_FFFC;
    }
}
