package dev.jgvt.core.hw;

import java.util.List;
import java.util.Locale;

/**
 * A Gen9 command streamer, as data: where its ring registers are, which command table applies to it, its bit
 * in GDRST, where its interrupts sit in the GT interrupt groups, and the names the register table gives its
 * registers. The one engine type of the project: the MMIO table, the execlist emulation, the scanner, the
 * scheduler and the host GPU all use it.
 *
 * <p>{@link #VCS} is the first video engine (VCS0; i915's "BSD"), {@link #VCS2} the second one that GT3/GT4 parts
 * have. The vGPU presents a Skylake GT2, which has one video engine: {@link #GT2} lists what it presents; a host
 * GPU may have all five.
 *
 * <p>Interrupts: each engine owns 16 bits of a GT interrupt group (GT0 bits 15:0 render, 31:16 blitter; GT1
 * 15:0 VCS0, 31:16 VCS2; GT3 15:0 VECS) with user interrupt at bit 0, PIPE_CONTROL notify (render) or
 * MI_FLUSH_DW notify (the others) at bit 4, and context switch at bit 8 of the engine's half.
 */
public enum Engine {
    RCS(0x2000, 0, 1 << 1, 0, 0, "RENDER"),
    BCS(0x22000, 1, 1 << 3, 0, 16, "BLT"),
    VCS(0x12000, 2, 1 << 2, 1, 0, "BSD"),
    VCS2(0x1C000, 2, 1 << 7, 1, 16, "BSD2"),
    VECS(0x1A000, 3, 1 << 4, 3, 0, "VEBOX");

    /** Number of distinct command tables (engine classes): render, blitter, video, video enhancement. */
    public static final int TABLE_CLASSES = 4;
    /** The engines of a Skylake GT2, the device a vGPU presents (one video engine), in register-table order. */
    public static final List<Engine> GT2 = List.of(RCS, VCS, BCS, VECS);
    /** Bit of a user interrupt (MI_USER_INTERRUPT) within the engine's 16 interrupt bits. */
    public static final int IRQ_USER = 0;
    /** Bit of PIPE_CONTROL notify (render) or MI_FLUSH_DW notify (the others) within the engine's bits. */
    public static final int IRQ_NOTIFY = 4;
    /** Bit of the context-switch interrupt within the engine's bits. */
    public static final int IRQ_CONTEXT_SWITCH = 8;

    private final int mmioBase;
    private final int tableClass;
    private final int resetDomain;
    private final int irqGroup;
    private final int irqShift;
    private final String registerPrefix;

    Engine(int mmioBase, int tableClass, int resetDomain, int irqGroup, int irqShift, String registerPrefix) {
        this.mmioBase = mmioBase;
        this.tableClass = tableClass;
        this.resetDomain = resetDomain;
        this.irqGroup = irqGroup;
        this.irqShift = irqShift;
        this.registerPrefix = registerPrefix;
    }

    /** The engine's MMIO base (its ring registers are at base + 0x000..0xFFF). */
    public int mmioBase() {
        return mmioBase;
    }

    /** Index of the engine class whose command table applies: RCS 0, BCS 1, VCS/VCS2 2, VECS 3. */
    public int tableClass() {
        return tableClass;
    }

    /** The engine's bit in GDRST's reset-domain mask (bit 0 is the full GT reset). */
    public int resetDomain() {
        return resetDomain;
    }

    /** The GT interrupt group (GTn, n = 0..3) holding the engine's interrupt bits. */
    public int irqGroup() {
        return irqGroup;
    }

    /** Where the engine's 16 interrupt bits start in its group's registers: 0 or 16. */
    public int irqShift() {
        return irqShift;
    }

    /** The prefix of the engine's ring register names in the register table ({@code RENDER_RING_TAIL}, ...). */
    public String registerPrefix() {
        return registerPrefix;
    }

    /** The engine whose MMIO base is {@code base}, or null. */
    public static Engine atMmioBase(int base) {
        for (Engine engine : VALUES) {
            if (engine.mmioBase == base) {
                return engine;
            }
        }
        return null;
    }

    /** The engine by its lower-case CLI name ({@code rcs}, {@code bcs}, {@code vcs}, {@code vcs2}, {@code vecs}). */
    public static Engine fromName(String name) {
        for (Engine engine : VALUES) {
            if (engine.name().equalsIgnoreCase(name)) {
                return engine;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "': expected rcs, bcs, vcs, vcs2 or vecs");
    }

    /** The lower-case name. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    private static final Engine[] VALUES = values();
}
